using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// Generates a container's OCI config.json from its CRI config, its pod and its image. Pure:
/// no file system or process is touched, so every rule is unit-tested (containerd keeps spec
/// generation side-effect free for the same reason).
/// </summary>
public static class ContainerSpecBuilder
{
    public const string RootfsDirectory = "rootfs";

    /// <summary>A terminal container gets TERM=xterm unless it names its own (containerd's WithTTY does the same).</summary>
    private static IReadOnlyList<string> TerminalEnvironment(bool tty, IReadOnlyList<string> environment) =>
        tty && !environment.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)) ? [.. environment, "TERM=xterm"] : environment;

    public static RuntimeSpec Build(ContainerSpecInput input)
    {
        var config = input.Config;
        var security = config.Linux?.SecurityContext;
        var privileged = security?.Privileged == true;
        var hostNetwork = input.Sandbox.NetworkNamespace is null;
        var capabilities = BuildCapabilities(security, privileged);

        return new RuntimeSpec
        {
            Process = new ProcessSpec
            {
                Args = ContainerCommand.Resolve(config.Command, config.Args, input.Image.Entrypoint, input.Image.Cmd),
                Terminal = config.Tty,
                Env = TerminalEnvironment(config.Tty, ContainerCommand.MergeEnvironment(input.Image.Env, config.Envs.Select(e => (e.Key, e.Value)))),
                Cwd = NonEmpty(config.WorkingDir) ?? NonEmpty(input.Image.WorkingDir) ?? "/",
                User = new UserSpec { Uid = input.User.Uid, Gid = input.User.Gid, AdditionalGids = input.User.AdditionalGids },
                Capabilities = capabilities,
                NoNewPrivileges = security?.NoNewPrivs == true,
                OomScoreAdj = config.Linux?.Resources is { } resources && resources.OomScoreAdj != 0 ? (int)resources.OomScoreAdj : null,
                ApparmorProfile = input.SecurityLabels?.AppArmorProfile,
                SelinuxLabel = input.SecurityLabels?.SELinux?.ProcessLabel,
            },
            Root = new RootSpec { Path = RootfsDirectory, Readonly = security?.ReadonlyRootfs == true },
            Hostname = hostNetwork ? null : Sandboxes.SandboxFiles.Hostname(input.SandboxConfig),
            Mounts = BuildMounts(input, privileged),
            Annotations = BuildAnnotations(input),
            Linux = new LinuxSpec
            {
                Namespaces = BuildNamespaces(input),
                MaskedPaths = privileged ? [] : security?.MaskedPaths is { Count: > 0 } masked ? masked : SpecDefaults.MaskedPaths,
                ReadonlyPaths = privileged ? [] : security?.ReadonlyPaths is { Count: > 0 } readOnly ? readOnly : SpecDefaults.ReadonlyPaths,
                // No sysctls: the pod's are written into its namespaces at RunPodSandbox (PodSysctls).
                CgroupsPath = CgroupsPath(input),
                Resources = BuildResources(config.Linux?.Resources, privileged),
                Seccomp = BuildSeccomp(security, privileged, capabilities, input.LocalhostSeccompProfile),
                MountLabel = input.SecurityLabels?.SELinux?.MountLabel,
                // The maps beside the pinned user namespace's path describe it, as containerd writes them.
                UidMappings = input.UserNamespace is { } userns ? Sandboxes.PodUserNamespace.ToSpec(userns.Uids) : null,
                GidMappings = input.UserNamespace is { } usernsGids ? Sandboxes.PodUserNamespace.ToSpec(usernsGids.Gids) : null,
            },
        };
    }

    /// <summary>
    /// The pod's cgroup (kubelet's cgroup_parent, e.g. /kubepods/burstable/pod&lt;uid&gt;, else
    /// /crioci/&lt;pod id&gt;) plus the container ID, as containerd names it: nested, so the pod's limits hold.
    /// </summary>
    public static string CgroupsPath(ContainerSpecInput input) =>
        Cgroups.PodCgroup.PathFor(input.Sandbox.Id, input.SandboxConfig) + "/" + input.ContainerId;

    /// <summary>
    /// Kubernetes' seccomp field: absent or Unconfined means no filter (kubelet sends
    /// RuntimeDefault explicitly when the pod or the SeccompDefault gate asks for it);
    /// privileged containers are never filtered.
    /// </summary>
    private static SeccompSpec? BuildSeccomp(LinuxContainerSecurityContext? security, bool privileged, CapabilitiesSpec capabilities, SeccompSpec? localhost)
    {
        if (privileged || security?.Seccomp is not { } profile)
        {
            return null;
        }
        return profile.ProfileType switch
        {
            SecurityProfile.Types.ProfileType.RuntimeDefault => OciRuntime.Seccomp.RuntimeDefaultProfile.Create(capabilities.Bounding ?? []),
            SecurityProfile.Types.ProfileType.Unconfined => null,
            _ => localhost ?? throw new InvalidArgumentException($"seccomp: Localhost profile {profile.LocalhostRef} was not loaded"),
        };
    }

    /// <summary>The CRI's resources as OCI linux.resources, without device rules (UpdateContainerResources keeps those).</summary>
    public static ResourcesSpec ResourcesForUpdate(LinuxContainerResources resources) =>
        BuildResources(resources, privileged: false) with { Devices = null };

    private static ResourcesSpec BuildResources(LinuxContainerResources? resources, bool privileged)
    {
        var devices = privileged ? new List<DeviceCgroupSpec> { new() { Allow = true, Access = "rwm" } } : SpecDefaults.DeviceRules.ToList();
        if (resources is null)
        {
            return new ResourcesSpec { Devices = devices };
        }
        return new ResourcesSpec
        {
            Devices = devices,
            Memory = resources.MemoryLimitInBytes > 0 || resources.MemorySwapLimitInBytes != 0
                ? new MemorySpec
                {
                    Limit = resources.MemoryLimitInBytes > 0 ? resources.MemoryLimitInBytes : null,
                    Swap = resources.MemorySwapLimitInBytes != 0 ? resources.MemorySwapLimitInBytes : null,
                }
                : null,
            Cpu = new CpuSpec
            {
                Shares = resources.CpuShares > 0 ? (ulong)resources.CpuShares : null,
                Quota = resources.CpuQuota != 0 ? resources.CpuQuota : null,
                Period = resources.CpuPeriod > 0 ? (ulong)resources.CpuPeriod : null,
                Cpus = NonEmpty(resources.CpusetCpus),
                Mems = NonEmpty(resources.CpusetMems),
            },
            HugepageLimits = resources.HugepageLimits.Count > 0
                ? resources.HugepageLimits.Select(h => new HugepageLimitSpec { PageSize = h.PageSize, Limit = h.Limit }).ToList()
                : null,
            Unified = resources.Unified.Count > 0 ? new Dictionary<string, string>(resources.Unified) : null,
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static CapabilitiesSpec BuildCapabilities(LinuxContainerSecurityContext? security, bool privileged)
    {
        IReadOnlyList<string> caps;
        if (privileged)
        {
            caps = Capabilities.All;
        }
        else
        {
            var set = new List<string>(SpecDefaults.Capabilities);
            var add = security?.Capabilities?.AddCapabilities ?? [];
            var drop = security?.Capabilities?.DropCapabilities ?? [];
            if (add.Any(IsAll))
            {
                set = [.. Capabilities.All];
            }
            else
            {
                set.AddRange(add.Select(Normalize));
            }
            if (drop.Any(IsAll))
            {
                set.Clear();
                set.AddRange(add.Where(c => !IsAll(c)).Select(Normalize));
            }
            else
            {
                var dropped = drop.Select(Normalize).ToHashSet(StringComparer.Ordinal);
                set.RemoveAll(dropped.Contains);
            }
            caps = set.Distinct(StringComparer.Ordinal).ToList();
        }
        return new CapabilitiesSpec { Bounding = caps, Effective = caps, Permitted = caps };
    }

    private static bool IsAll(string capability) => string.Equals(capability, "ALL", StringComparison.OrdinalIgnoreCase);

    private static string Normalize(string capability)
    {
        var upper = capability.ToUpperInvariant();
        var name = upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper : "CAP_" + upper;
        return Capabilities.Number(name) is null ? throw new InvalidArgumentException($"unknown capability {capability}") : name;
    }

    private static List<NamespaceSpec> BuildNamespaces(ContainerSpecInput input)
    {
        var pidMode = input.Config.Linux?.SecurityContext?.NamespaceOptions?.Pid ?? NamespaceMode.Container;
        var namespaces = new List<NamespaceSpec> { new() { Type = "mount" } };
        if (input.UserNamespace is not null)
        {
            namespaces.Add(new NamespaceSpec
            {
                Type = "user",
                Path = input.Sandbox.UserNamespace ?? throw new InvalidArgumentException($"pod sandbox {input.Sandbox.Id} has no pinned user namespace to join"),
            });
        }
        if (pidMode != NamespaceMode.Node)
        {
            // POD and TARGET join an existing namespace: the pod's reaper's or the target
            // container's, found by the caller (the init is then not PID 1 there).
            var joined = pidMode is NamespaceMode.Pod or NamespaceMode.Target
                ? input.PidNamespacePath ?? throw new InvalidArgumentException($"pid namespace mode {pidMode} needs the namespace to join")
                : null;
            namespaces.Add(new NamespaceSpec { Type = "pid", Path = joined });
        }
        if (input.Sandbox.NetworkNamespace is { } network)
        {
            namespaces.Add(new NamespaceSpec { Type = "network", Path = network });
        }
        if (input.Sandbox.IpcNamespace is { } ipc)
        {
            namespaces.Add(new NamespaceSpec { Type = "ipc", Path = ipc });
        }
        if (input.Sandbox.UtsNamespace is { } uts)
        {
            namespaces.Add(new NamespaceSpec { Type = "uts", Path = uts });
        }
        return namespaces;
    }

    private static List<MountSpec> BuildMounts(ContainerSpecInput input, bool privileged)
    {
        var mounts = new List<MountSpec>();
        foreach (var mount in SpecDefaults.Mounts())
        {
            mounts.Add(privileged && mount.Destination == "/sys"
                ? mount with { Options = ["nosuid", "noexec", "nodev", "rw"] }
                : mount);
        }
        var requested = input.Config.Mounts.Select(m => m.ContainerPath.TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        void AddPodFile(string destination, string source, bool readOnly)
        {
            // kubelet mounts its own /etc/hosts (and others); the CRI's mount wins.
            if (!requested.Contains(destination))
            {
                mounts.Add(new MountSpec
                {
                    Destination = destination,
                    Type = "bind",
                    Source = source,
                    Options = readOnly ? ["rbind", "rprivate", "ro"] : ["rbind", "rprivate", "rw"],
                });
            }
        }
        var readonlyRoot = input.Config.Linux?.SecurityContext?.ReadonlyRootfs == true;
        AddPodFile("/etc/hostname", input.Sandbox.HostnameFile, readonlyRoot);
        AddPodFile("/etc/hosts", input.Sandbox.HostsFile, readonlyRoot);
        AddPodFile("/etc/resolv.conf", input.Sandbox.ResolvConfFile, readonlyRoot);
        if (!requested.Contains("/dev/shm"))
        {
            mounts.Add(new MountSpec
            {
                Destination = "/dev/shm",
                Type = "bind",
                Source = input.Sandbox.ShmDirectory,
                Options = ["rbind", "rprivate", "rw", "nosuid", "nodev", "noexec"],
            });
        }
        // Parents before children, so a mount is never hidden by one made after it.
        foreach (var mount in input.Config.Mounts.OrderBy(m => m.ContainerPath.TrimEnd('/').Count(c => c == '/')))
        {
            if (!mount.ContainerPath.StartsWith('/'))
            {
                throw new InvalidArgumentException($"mounts: container_path must be absolute: {mount.ContainerPath}");
            }
            var propagation = mount.Propagation switch
            {
                MountPropagation.PropagationHostToContainer => "rslave",
                MountPropagation.PropagationBidirectional => "rshared",
                _ => "rprivate",
            };
            if (input.ImageVolumeSources?.GetValueOrDefault(mount.ContainerPath) is { } imageVolume)
            {
                // Kubernetes mounts image volumes read-only and noexec, whatever the mount asks.
                mounts.Add(new MountSpec
                {
                    Destination = mount.ContainerPath,
                    Type = "bind",
                    Source = imageVolume,
                    Options = ["rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"],
                });
                continue;
            }
            List<string> options = ["rbind", propagation, mount.Readonly ? "ro" : "rw"];
            if (mount.RecursiveReadOnly)
            {
                // api.proto Mount.recursive_read_only: "requires readonly and private propagation".
                if (!mount.Readonly || mount.Propagation != MountPropagation.PropagationPrivate)
                {
                    throw new InvalidArgumentException($"mounts: {mount.ContainerPath}: recursive_read_only needs readonly and private propagation");
                }
                options.Add("rro");
            }
            mounts.Add(IdMappedInPod(input.UserNamespace, mount, new MountSpec
            {
                Destination = mount.ContainerPath,
                Type = "bind",
                Source = mount.HostPath,
                Options = options,
            }));
        }
        return mounts;
    }

    /// <summary>
    /// In a pod with its own user namespace a volume is id-mapped (as containerd 2 does), so the
    /// host's root owns it as the pod's root: by the mount's own maps when kubelet sent some,
    /// else by the pod's.
    /// </summary>
    private static MountSpec IdMappedInPod(Sandboxes.PodUserNamespace? userNamespace, Mount mount, MountSpec spec)
    {
        if (userNamespace is null)
        {
            return spec;
        }
        var own = mount.UidMappings.Count > 0 && mount.GidMappings.Count > 0
            ? Sandboxes.PodUserNamespace.From(new NamespaceOption
            {
                UsernsOptions = new UserNamespace { Mode = NamespaceMode.Pod, Uids = { mount.UidMappings }, Gids = { mount.GidMappings } },
            }, $"mounts[{mount.ContainerPath}]")
            : null;
        var maps = own ?? userNamespace;
        return spec with
        {
            Options = [.. spec.Options ?? [], "idmap"],
            UidMappings = Sandboxes.PodUserNamespace.ToSpec(maps.Uids),
            GidMappings = Sandboxes.PodUserNamespace.ToSpec(maps.Gids),
        };
    }

    private static Dictionary<string, string> BuildAnnotations(ContainerSpecInput input)
    {
        var annotations = new Dictionary<string, string>(input.Config.Annotations, StringComparer.Ordinal)
        {
            ["io.kubernetes.cri.container-type"] = "container",
            ["io.kubernetes.cri.container-name"] = input.Config.Metadata?.Name ?? "",
            ["io.kubernetes.cri.sandbox-id"] = input.Sandbox.Id,
            ["io.kubernetes.cri.sandbox-name"] = input.SandboxConfig.Metadata?.Name ?? "",
            ["io.kubernetes.cri.sandbox-namespace"] = input.SandboxConfig.Metadata?.Namespace ?? "",
            ["io.kubernetes.cri.sandbox-uid"] = input.SandboxConfig.Metadata?.Uid ?? "",
            ["io.kubernetes.cri.image-name"] = input.Image.Reference,
        };
        return annotations;
    }
}
