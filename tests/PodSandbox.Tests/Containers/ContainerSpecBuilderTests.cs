using System.Text.Json;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Containers;
using CriOci.PodSandbox.Storage;

namespace CriOci.PodSandbox.Tests.Containers;

/// <summary>config.json generation from a CRI container config, its pod and its image.</summary>
public sealed class ContainerSpecBuilderTests
{
    /// <summary>containerd's defaultUnixCaps (pkg/oci/spec.go), written out here on purpose.</summary>
    private static readonly string[] ContainerdDefaultCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    private const string PodState = "/run/crioci/pods/pod1";

    private static SandboxRecord Sandbox(bool hostNetwork = false) => new(
        "pod1", DateTimeOffset.UnixEpoch, Ready: true, RuntimeHandler: "",
        NetworkNamespace: hostNetwork ? null : $"{PodState}/ns/net",
        IpcNamespace: $"{PodState}/ns/ipc",
        UtsNamespace: hostNetwork ? null : $"{PodState}/ns/uts",
        ShmDirectory: $"{PodState}/shm",
        HostnameFile: $"{PodState}/hostname",
        HostsFile: $"{PodState}/hosts",
        ResolvConfFile: $"{PodState}/resolv.conf");

    private static PodSandboxConfig PodConfig() => new()
    {
        Metadata = new PodSandboxMetadata { Name = "web", Namespace = "shop", Uid = "uid-1", Attempt = 0 },
        Hostname = "web-0",
    };

    private static ContainerConfig Config(Action<ContainerConfig>? change = null)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "app", Attempt = 1 },
            Image = new ImageSpec { Image = "busybox" },
            Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext() },
        };
        config.Command.Add("/bin/app");
        change?.Invoke(config);
        return config;
    }

    private static ContainerImage Image(string? workingDir = null) => new(
        "sha256:0123", "docker.io/library/busybox:1.36", ["/layers/a"], User: null,
        Env: ["PATH=/usr/bin:/bin", "IMAGE_ONLY=1"], Entrypoint: [], Cmd: ["sh"], workingDir, StopSignal: null);

    private static RuntimeSpec Build(ContainerConfig? config = null, SandboxRecord? sandbox = null, ContainerImage? image = null,
        PodSandboxConfig? podConfig = null, ResolvedUser? user = null, string? pidNamespacePath = null) =>
        ContainerSpecBuilder.Build(new ContainerSpecInput("c1", config ?? Config(), podConfig ?? PodConfig(),
            sandbox ?? Sandbox(), image ?? Image(), user ?? new ResolvedUser(0, 0, []), PidNamespacePath: pidNamespacePath));

    private static MountSpec MountAt(RuntimeSpec spec, string destination) => spec.Mounts!.Single(m => m.Destination == destination);

    // ---- cgroups

    [Fact]
    public void Build_KubeletCgroupParent_ContainerNestedInThePodCgroup()
    {
        var pod = PodConfig();
        pod.Linux = new LinuxPodSandboxConfig { CgroupParent = "/kubepods/burstable/pod1234" };

        Assert.Equal("/kubepods/burstable/pod1234/c1", Build(podConfig: pod).Linux!.CgroupsPath);
    }

    [Fact]
    public void Build_NoCgroupParent_ContainerNestedInThePodsOwnCgroup()
    {
        Assert.Equal("/crioci/pod1/c1", Build().Linux!.CgroupsPath);
    }

    // ---- capabilities

    [Fact]
    public void Build_NoSecurityContext_GetsContainerdsFourteenDefaultCapabilities()
    {
        var spec = Build(Config(c => c.Linux = null));

        var caps = spec.Process!.Capabilities!;
        Assert.Equal(14, caps.Bounding!.Count);
        Assert.Equal(ContainerdDefaultCapabilities.Order(), caps.Bounding.Order());
        Assert.Equal(caps.Bounding, caps.Effective);
        Assert.Equal(caps.Bounding, caps.Permitted);
        Assert.Null(caps.Ambient);
    }

    public static TheoryData<string, string[], string[], string[]> CapabilityCases
    {
        get
        {
            var defaults = ContainerdDefaultCapabilities;
            var all = Capabilities.All.ToArray();
            return new()
            {
                { "add one without prefix", ["NET_ADMIN"], [], [.. defaults, "CAP_NET_ADMIN"] },
                { "add with prefix and lower case", ["CAP_SYS_TIME", "sys_ptrace"], [], [.. defaults, "CAP_SYS_TIME", "CAP_SYS_PTRACE"] },
                { "add one already present", ["CHOWN"], [], defaults },
                { "drop two", [], ["NET_RAW", "cap_mknod"], [.. defaults.Except(["CAP_NET_RAW", "CAP_MKNOD"])] },
                { "add and drop the same", ["NET_ADMIN"], ["NET_ADMIN"], defaults },
                { "add ALL", ["ALL"], [], all },
                { "add all (lower case)", ["all"], [], all },
                { "add ALL, drop one", ["ALL"], ["CHOWN"], [.. all.Except(["CAP_CHOWN"])] },
                { "drop ALL", [], ["ALL"], [] },
                { "drop ALL, add one back", ["NET_BIND_SERVICE"], ["ALL"], ["CAP_NET_BIND_SERVICE"] },
                { "add ALL and drop ALL", ["ALL"], ["ALL"], [] },
            };
        }
    }

    [Theory]
    [MemberData(nameof(CapabilityCases))]
    public void Build_AddAndDropCapabilities_FollowsContainerdRules(string name, string[] add, string[] drop, string[] expected)
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.Capabilities = new Capability();
            c.Linux.SecurityContext.Capabilities.AddCapabilities.Add(add);
            c.Linux.SecurityContext.Capabilities.DropCapabilities.Add(drop);
        });

        var caps = Build(config).Process!.Capabilities!;

        Assert.True(expected.Order().SequenceEqual(caps.Bounding!.Order()), $"{name}: got [{string.Join(", ", caps.Bounding!)}]");
        Assert.Equal(caps.Bounding, caps.Effective);
        Assert.Equal(caps.Bounding, caps.Permitted);
    }

    [Theory]
    [InlineData("FLY", true)]
    [InlineData("CAP_TELEPORT", false)]
    public void Build_UnknownCapability_ThrowsInvalidArgumentNamingIt(string capability, bool add)
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.Capabilities = new Capability();
            (add ? c.Linux.SecurityContext.Capabilities.AddCapabilities : c.Linux.SecurityContext.Capabilities.DropCapabilities).Add(capability);
        });

        var exception = Assert.Throws<InvalidArgumentException>(() => Build(config));

        Assert.Contains(capability, exception.Message);
    }

    [Fact]
    public void Build_Privileged_GetsEveryCapabilityNoMasksAndWritableSysfs()
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.Privileged = true;
            c.Linux.SecurityContext.Capabilities = new Capability();
            c.Linux.SecurityContext.Capabilities.DropCapabilities.Add("ALL");
        });

        var spec = Build(config);

        Assert.Equal(Capabilities.All, spec.Process!.Capabilities!.Bounding);
        Assert.Equal(Capabilities.All, spec.Process.Capabilities.Effective);
        Assert.Empty(spec.Linux!.MaskedPaths!);
        Assert.Empty(spec.Linux.ReadonlyPaths!);
        var sys = MountAt(spec, "/sys");
        Assert.Contains("rw", sys.Options!);
        Assert.DoesNotContain("ro", sys.Options!);
    }

    [Fact]
    public void Build_NotPrivileged_MasksDefaultPathsAndMountsSysfsReadOnly()
    {
        var spec = Build();

        Assert.Equal(SpecDefaults.MaskedPaths, spec.Linux!.MaskedPaths);
        Assert.Contains("/proc/kcore", spec.Linux.MaskedPaths!);
        Assert.Equal(SpecDefaults.ReadonlyPaths, spec.Linux.ReadonlyPaths);
        Assert.Contains("/proc/sys", spec.Linux.ReadonlyPaths!);
        Assert.Contains("ro", MountAt(spec, "/sys").Options!);
    }

    [Fact]
    public void Build_SecurityContextPaths_ReplaceTheDefaults()
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.MaskedPaths.Add("/proc/secret");
            c.Linux.SecurityContext.ReadonlyPaths.Add("/proc/ro");
        });

        var spec = Build(config);

        Assert.Equal(["/proc/secret"], spec.Linux!.MaskedPaths!);
        Assert.Equal(["/proc/ro"], spec.Linux.ReadonlyPaths!);
    }

    // ---- root, user, process

    [Theory]
    [InlineData(false, "rw")]
    [InlineData(true, "ro")]
    public void Build_ReadonlyRootfs_MakesRootAndPodFilesReadOnly(bool readOnly, string podFileMode)
    {
        var spec = Build(Config(c => c.Linux.SecurityContext.ReadonlyRootfs = readOnly));

        Assert.Equal(readOnly, spec.Root!.Readonly);
        Assert.Equal(ContainerSpecBuilder.RootfsDirectory, spec.Root.Path);
        foreach (var file in new[] { "/etc/hostname", "/etc/hosts", "/etc/resolv.conf" })
        {
            Assert.Contains(podFileMode, MountAt(spec, file).Options!);
        }
        Assert.Contains("rw", MountAt(spec, "/dev/shm").Options!);
    }

    [Fact]
    public void Build_ResolvedUser_BecomesProcessUser()
    {
        var spec = Build(user: new ResolvedUser(1000, 2000, [10, 20]));

        Assert.Equal(1000u, spec.Process!.User.Uid);
        Assert.Equal(2000u, spec.Process.User.Gid);
        Assert.Equal([10u, 20u], spec.Process.User.AdditionalGids!);
    }

    [Fact]
    public void Build_SecurityAndResources_SetNoNewPrivilegesAndOomScore()
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.NoNewPrivs = true;
            c.Linux.Resources = new LinuxContainerResources { OomScoreAdj = 999 };
        });

        var spec = Build(config);

        Assert.True(spec.Process!.NoNewPrivileges);
        Assert.Equal(999, spec.Process.OomScoreAdj);
        Assert.False(Build().Process!.NoNewPrivileges);
        Assert.Null(Build().Process!.OomScoreAdj);
    }

    public static TheoryData<string, string?, string> WorkingDirCases => new()
    {
        { "/from-config", "/from-image", "/from-config" },
        { "", "/from-image", "/from-image" },
        { "", null, "/" },
        { "", "", "/" },
    };

    [Theory]
    [MemberData(nameof(WorkingDirCases))]
    public void Build_WorkingDir_ConfigThenImageThenSlash(string configDir, string? imageDir, string expected)
    {
        var spec = Build(Config(c => c.WorkingDir = configDir), image: Image(imageDir));

        Assert.Equal(expected, spec.Process!.Cwd);
    }

    [Fact]
    public void Build_Environment_ImageFirstContainerOverrides()
    {
        var config = Config(c =>
        {
            c.Envs.Add(new KeyValue { Key = "PATH", Value = "/opt/bin" });
            c.Envs.Add(new KeyValue { Key = "POD_NAME", Value = "web" });
        });

        var spec = Build(config);

        Assert.Equal(["PATH=/opt/bin", "IMAGE_ONLY=1", "POD_NAME=web"], spec.Process!.Env!);
    }

    [Fact]
    public void Build_CommandAndImage_ArgsFollowKubernetesRules()
    {
        var config = Config(c =>
        {
            c.Command.Clear();
            c.Args.Add("-c");
            c.Args.Add("echo hi");
        });

        var spec = Build(config, image: Image() with { Entrypoint = ["/bin/sh"] });

        Assert.Equal(["/bin/sh", "-c", "echo hi"], spec.Process!.Args!);
    }

    [Fact]
    public void Build_Tty_AsksForATerminalAndSetsTerm()
    {
        var spec = Build(Config(c => c.Tty = true));

        Assert.True(spec.Process!.Terminal);
        Assert.Contains("TERM=xterm", spec.Process.Env!);
    }

    [Fact]
    public void Build_TtyWithItsOwnTerm_KeepsIt()
    {
        var spec = Build(Config(c =>
        {
            c.Tty = true;
            c.Envs.Add(new KeyValue { Key = "TERM", Value = "vt100" });
        }));

        Assert.Single(spec.Process!.Env!, e => e.StartsWith("TERM=", StringComparison.Ordinal));
        Assert.Contains("TERM=vt100", spec.Process.Env!);
    }

    [Fact]
    public void Build_WithoutTty_NoTerminal()
    {
        Assert.False(Build(Config(c => { })).Process!.Terminal);
    }

    // ---- namespaces and hostname

    [Fact]
    public void Build_PodNamespaces_JoinsThePodsPinsAndCreatesMountAndPid()
    {
        var spec = Build();

        var namespaces = spec.Linux!.Namespaces!.Select(n => (n.Type, n.Path)).ToList();
        Assert.Equal(
            [("mount", null), ("pid", null), ("network", $"{PodState}/ns/net"), ("ipc", $"{PodState}/ns/ipc"), ("uts", $"{PodState}/ns/uts")],
            namespaces);
    }

    [Fact]
    public void Build_HostNetwork_NoNetworkOrUtsNamespaceAndNoHostname()
    {
        var spec = Build(sandbox: Sandbox(hostNetwork: true));

        var types = spec.Linux!.Namespaces!.Select(n => n.Type).ToList();
        Assert.DoesNotContain("network", types);
        Assert.DoesNotContain("uts", types);
        Assert.Contains("ipc", types);
        Assert.Null(spec.Hostname);
    }

    [Fact]
    public void Build_HostIpc_NoIpcNamespace()
    {
        var spec = Build(sandbox: Sandbox() with { IpcNamespace = null });

        Assert.DoesNotContain("ipc", spec.Linux!.Namespaces!.Select(n => n.Type));
    }

    [Fact]
    public void Build_PidModeNode_OmitsPidNamespace()
    {
        var config = Config(c => c.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Node, Network = NamespaceMode.Pod });

        var spec = Build(config);

        Assert.DoesNotContain("pid", spec.Linux!.Namespaces!.Select(n => n.Type));
        Assert.Contains("mount", spec.Linux.Namespaces!.Select(n => n.Type));
    }

    [Fact]
    public void Build_PidModeContainer_CreatesPidNamespace()
    {
        var config = Config(c => c.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Container });

        var spec = Build(config);

        Assert.Contains(spec.Linux!.Namespaces!, n => n.Type == "pid" && n.Path is null);
    }

    [Theory]
    [InlineData(NamespaceMode.Pod)]
    [InlineData(NamespaceMode.Target)]
    public void Build_PidModePodOrTarget_JoinsTheGivenPidNamespace(NamespaceMode mode)
    {
        var config = Config(c => c.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = mode, TargetId = "other" });

        var spec = Build(config, pidNamespacePath: "/proc/42/ns/pid");

        var pid = Assert.Single(spec.Linux!.Namespaces!, n => n.Type == "pid");
        Assert.Equal("/proc/42/ns/pid", pid.Path);
    }

    [Theory]
    [InlineData(NamespaceMode.Pod)]
    [InlineData(NamespaceMode.Target)]
    public void Build_PidModePodOrTargetWithoutNamespace_ThrowsInvalidArgument(NamespaceMode mode)
    {
        var config = Config(c => c.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = mode });

        Assert.Throws<InvalidArgumentException>(() => Build(config));
    }

    [Theory]
    [InlineData("web-0", "web-0")]
    [InlineData("", "web")]
    public void Build_Hostname_PodHostnameOrPodName(string podHostname, string expected)
    {
        var pod = PodConfig();
        pod.Hostname = podHostname;

        var spec = Build(podConfig: pod);

        Assert.Equal(expected, spec.Hostname);
    }

    [Fact]
    public void Build_LongPodNameWithoutHostname_HostnameCutAsKubeletDoes()
    {
        var pod = PodConfig();
        pod.Hostname = "";
        pod.Metadata.Name = new string('a', 61) + "-.bbbbbbbbbb";

        var spec = Build(podConfig: pod);

        Assert.Equal(new string('a', 61), spec.Hostname);
    }

    [Fact]
    public void Build_PodSysctls_AreNotInTheContainerSpec()
    {
        var pod = PodConfig();
        pod.Linux = new LinuxPodSandboxConfig();
        pod.Linux.Sysctls.Add("net.ipv4.ip_unprivileged_port_start", "0");

        var spec = Build(podConfig: pod);

        // RunPodSandbox wrote them into the pod's namespaces (PodSysctls).
        Assert.Null(spec.Linux!.Sysctl);
    }

    // ---- mounts

    [Fact]
    public void Build_Defaults_MountsKernelFileSystemsThenPodFilesAndShm()
    {
        var spec = Build();

        Assert.Equal(
            ["/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/shm"],
            spec.Mounts!.Select(m => m.Destination));
        Assert.Equal($"{PodState}/hostname", MountAt(spec, "/etc/hostname").Source);
        Assert.Equal($"{PodState}/hosts", MountAt(spec, "/etc/hosts").Source);
        Assert.Equal($"{PodState}/resolv.conf", MountAt(spec, "/etc/resolv.conf").Source);
        var shm = MountAt(spec, "/dev/shm");
        Assert.Equal($"{PodState}/shm", shm.Source);
        Assert.Equal("bind", shm.Type);
        Assert.Equal(["rbind", "rprivate", "rw", "nosuid", "nodev", "noexec"], shm.Options!);
        Assert.Equal(["rbind", "rprivate", "rw"], MountAt(spec, "/etc/hosts").Options!);
    }

    [Theory]
    [InlineData("/etc/hosts")]
    [InlineData("/etc/hostname")]
    [InlineData("/etc/resolv.conf")]
    [InlineData("/dev/shm")]
    [InlineData("/dev/shm/")]
    public void Build_CriMountAtAPodFilePath_ReplacesThePodsOwn(string containerPath)
    {
        var config = Config(c => c.Mounts.Add(new Mount { ContainerPath = containerPath, HostPath = "/var/lib/kubelet/pods/x/file" }));

        var spec = Build(config);

        var destination = containerPath.TrimEnd('/');
        var matching = spec.Mounts!.Where(m => m.Destination.TrimEnd('/') == destination).ToList();
        var only = Assert.Single(matching);
        Assert.Equal("/var/lib/kubelet/pods/x/file", only.Source);
    }

    [Fact]
    public void Build_CriMounts_ParentsBeforeChildrenWithPropagationAndMode()
    {
        var config = Config(c =>
        {
            c.Mounts.Add(new Mount { ContainerPath = "/data/logs/app", HostPath = "/h/app", Propagation = MountPropagation.PropagationBidirectional });
            c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/h/data", Readonly = true });
            c.Mounts.Add(new Mount { ContainerPath = "/data/logs", HostPath = "/h/logs", Propagation = MountPropagation.PropagationHostToContainer });
        });

        var spec = Build(config);

        var cri = spec.Mounts!.Where(m => m.Destination.StartsWith("/data", StringComparison.Ordinal)).ToList();
        Assert.Equal(["/data", "/data/logs", "/data/logs/app"], cri.Select(m => m.Destination));
        Assert.Equal(["/h/data", "/h/logs", "/h/app"], cri.Select(m => m.Source));
        Assert.All(cri, m => Assert.Equal("bind", m.Type));
        Assert.Equal(["rbind", "rprivate", "ro"], cri[0].Options!);
        Assert.Equal(["rbind", "rslave", "rw"], cri[1].Options!);
        Assert.Equal(["rbind", "rshared", "rw"], cri[2].Options!);
    }

    [Fact]
    public void Build_ImageVolume_IsAReadOnlyNoexecBindOfItsHostMountWhateverTheMountAsks()
    {
        var config = Config(c => c.Mounts.Add(new Mount
        {
            ContainerPath = "/models",
            Image = new ImageSpec { Image = "registry.example/models:1" },
            Readonly = false,
            Propagation = MountPropagation.PropagationBidirectional,
        }));

        var spec = ContainerSpecBuilder.Build(new ContainerSpecInput("c1", config, PodConfig(), Sandbox(), Image(), new ResolvedUser(0, 0, []),
            ImageVolumeSources: new Dictionary<string, string> { ["/models"] = "/run/crioci/containers/c1/image-volumes/0" }));

        var mount = MountAt(spec, "/models");
        Assert.Equal("/run/crioci/containers/c1/image-volumes/0", mount.Source);
        Assert.Equal(["rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"], mount.Options!);
    }

    [Fact]
    public void Build_RecursiveReadOnlyMount_AddsRro()
    {
        var config = Config(c => c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/h/data", Readonly = true, RecursiveReadOnly = true }));

        var spec = Build(config);

        var mount = Assert.Single(spec.Mounts!, m => m.Destination == "/data");
        Assert.Equal(["rbind", "rprivate", "ro", "rro"], mount.Options!);
    }

    [Theory]
    [InlineData(false, MountPropagation.PropagationPrivate)]
    [InlineData(true, MountPropagation.PropagationHostToContainer)]
    [InlineData(true, MountPropagation.PropagationBidirectional)]
    public void Build_RecursiveReadOnlyWithoutReadonlyOrPrivate_ThrowsInvalidArgument(bool readOnly, MountPropagation propagation)
    {
        var config = Config(c => c.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/h/data", Readonly = readOnly, Propagation = propagation, RecursiveReadOnly = true }));

        var exception = Assert.Throws<InvalidArgumentException>(() => Build(config));

        Assert.Contains("recursive_read_only", exception.Message);
    }

    [Fact]
    public void Build_CriMountsAfterDefaults_SoNoneIsHiddenByADefault()
    {
        var config = Config(c => c.Mounts.Add(new Mount { ContainerPath = "/dev/termination-log", HostPath = "/h/term" }));

        var spec = Build(config);

        var destinations = spec.Mounts!.Select(m => m.Destination).ToList();
        Assert.True(destinations.IndexOf("/dev") < destinations.IndexOf("/dev/termination-log"));
    }

    [Fact]
    public void Build_RelativeContainerPath_ThrowsInvalidArgument()
    {
        var config = Config(c => c.Mounts.Add(new Mount { ContainerPath = "data", HostPath = "/h/data" }));

        var exception = Assert.Throws<InvalidArgumentException>(() => Build(config));

        Assert.Contains("data", exception.Message);
    }

    // ---- annotations

    [Fact]
    public void Build_Annotations_ConfigsPlusCriKeys()
    {
        var config = Config(c => c.Annotations.Add("example.com/owner", "team-a"));

        var annotations = Build(config).Annotations!;

        Assert.Equal("team-a", annotations["example.com/owner"]);
        Assert.Equal("container", annotations["io.kubernetes.cri.container-type"]);
        Assert.Equal("app", annotations["io.kubernetes.cri.container-name"]);
        Assert.Equal("pod1", annotations["io.kubernetes.cri.sandbox-id"]);
        Assert.Equal("web", annotations["io.kubernetes.cri.sandbox-name"]);
        Assert.Equal("shop", annotations["io.kubernetes.cri.sandbox-namespace"]);
        Assert.Equal("uid-1", annotations["io.kubernetes.cri.sandbox-uid"]);
        Assert.Equal("docker.io/library/busybox:1.36", annotations["io.kubernetes.cri.image-name"]);
    }

    // ---- JSON

    [Fact]
    public void Serialize_WithOciJsonContext_UsesRuntimeSpecPropertyNames()
    {
        var config = Config(c =>
        {
            c.Linux.SecurityContext.NoNewPrivs = true;
            c.Linux.Resources = new LinuxContainerResources { OomScoreAdj = 5 };
        });
        var spec = Build(config, user: new ResolvedUser(1, 2, [3]));

        using var json = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));
        var root = json.RootElement;

        Assert.Equal(SpecDefaults.OciVersion, root.GetProperty("ociVersion").GetString());
        var process = root.GetProperty("process");
        Assert.True(process.GetProperty("noNewPrivileges").GetBoolean());
        Assert.Equal(5, process.GetProperty("oomScoreAdj").GetInt32());
        Assert.Equal("/", process.GetProperty("cwd").GetString());
        Assert.Equal(JsonValueKind.Array, process.GetProperty("args").ValueKind);
        Assert.Equal(JsonValueKind.Array, process.GetProperty("env").ValueKind);
        Assert.Equal(1, process.GetProperty("user").GetProperty("uid").GetInt32());
        Assert.Equal(2, process.GetProperty("user").GetProperty("gid").GetInt32());
        Assert.Equal(3, process.GetProperty("user").GetProperty("additionalGids")[0].GetInt32());
        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            Assert.Equal(JsonValueKind.Array, process.GetProperty("capabilities").GetProperty(set).ValueKind);
        }
        Assert.Equal("rootfs", root.GetProperty("root").GetProperty("path").GetString());
        Assert.False(root.GetProperty("root").GetProperty("readonly").GetBoolean());
        Assert.Equal("web-0", root.GetProperty("hostname").GetString());
        var mount = root.GetProperty("mounts")[0];
        foreach (var name in new[] { "destination", "type", "source", "options" })
        {
            Assert.True(mount.TryGetProperty(name, out _), $"mounts[0] has no {name}");
        }
        var linux = root.GetProperty("linux");
        Assert.Equal("mount", linux.GetProperty("namespaces")[0].GetProperty("type").GetString());
        Assert.Equal($"{PodState}/ns/net", linux.GetProperty("namespaces")[2].GetProperty("path").GetString());
        Assert.Equal(JsonValueKind.Array, linux.GetProperty("maskedPaths").ValueKind);
        Assert.Equal(JsonValueKind.Array, linux.GetProperty("readonlyPaths").ValueKind);
        Assert.Equal("container", root.GetProperty("annotations").GetProperty("io.kubernetes.cri.container-type").GetString());
        AssertCamelCase(root, "$");
    }

    /// <summary>Every property name the spec defines is camelCase; annotation and sysctl keys are data.</summary>
    private static void AssertCamelCase(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Assert.True(char.IsLower(property.Name[0]), $"{path}.{property.Name} is not camelCase");
                if (property.Name is not ("annotations" or "sysctl"))
                {
                    AssertCamelCase(property.Value, $"{path}.{property.Name}");
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                AssertCamelCase(item, $"{path}[{index++}]");
            }
        }
    }

    // ---- AppArmor and SELinux

    [Fact]
    public void Build_SecurityLabels_InProcessAndLinux()
    {
        var labels = new LinuxSecurityLabels("crioci-default", new SELinuxLabels("system_u:system_r:container_t:s0:c1,c2", "system_u:object_r:container_file_t:s0:c1,c2"));

        var spec = ContainerSpecBuilder.Build(new ContainerSpecInput("c1", Config(), PodConfig(), Sandbox(), Image(), new ResolvedUser(0, 0, []),
            SecurityLabels: labels));

        Assert.Equal("crioci-default", spec.Process!.ApparmorProfile);
        Assert.Equal("system_u:system_r:container_t:s0:c1,c2", spec.Process.SelinuxLabel);
        Assert.Equal("system_u:object_r:container_file_t:s0:c1,c2", spec.Linux!.MountLabel);
        // The spec's JSON names, as the runtime reads them.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(spec, CriOci.OciRuntime.Spec.OciJsonContext.Default.RuntimeSpec));
        Assert.Equal("crioci-default", json.RootElement.GetProperty("process").GetProperty("apparmorProfile").GetString());
        Assert.Equal("system_u:system_r:container_t:s0:c1,c2", json.RootElement.GetProperty("process").GetProperty("selinuxLabel").GetString());
        Assert.Equal("system_u:object_r:container_file_t:s0:c1,c2", json.RootElement.GetProperty("linux").GetProperty("mountLabel").GetString());
    }

    [Fact]
    public void Build_NoSecurityLabels_NoneInTheSpec()
    {
        var spec = Build();

        Assert.Null(spec.Process!.ApparmorProfile);
        Assert.Null(spec.Process.SelinuxLabel);
        Assert.Null(spec.Linux!.MountLabel);
    }
}
