using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// Pods with their own user namespace (Kubernetes hostUsers: false, userns_options mode POD
/// with kubelet's maps), checked from inside real busybox containers and from the host.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class PodUserNamespaceTests(RegistryFixture registry) : IAsyncLifetime
{
    private const uint HostBase = 100000;
    private const uint Size = 65536;

    private DaemonProcess _daemon = null!;
    private readonly string _volume = Directory.CreateTempSubdirectory("crioci-userns-volume-").FullName;

    public async Task InitializeAsync()
    {
        _daemon = await DaemonProcess.StartAsync();
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
        Directory.Delete(_volume, recursive: true);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;

    private static UserNamespace PodMaps()
    {
        var userns = new UserNamespace { Mode = NamespaceMode.Pod };
        userns.Uids.Add(new IDMapping { ContainerId = 0, HostId = HostBase, Length = Size });
        userns.Gids.Add(new IDMapping { ContainerId = 0, HostId = HostBase, Length = Size });
        return userns;
    }

    private static NamespaceOption Namespaces(NamespaceMode pid) =>
        new() { Network = NamespaceMode.Pod, Ipc = NamespaceMode.Pod, Pid = pid, UsernsOptions = PodMaps() };

    private PodSandboxConfig Pod(string name, NamespaceMode pid = NamespaceMode.Container)
    {
        var config = CriRequests.Pod(name, Path.Combine(_daemon.BaseDirectory, "logs"));
        config.Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = Namespaces(pid) } };
        return config;
    }

    private async Task<string> StartAsync(string podId, PodSandboxConfig pod, string name, params string[] command)
    {
        var config = CriRequests.Container(name, registry.BusyboxLatest.Reference, command);
        var pid = pod.Linux.SecurityContext.NamespaceOptions.Pid;
        config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = Namespaces(pid) } };
        config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = _volume });
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = pod });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        return created.ContainerId;
    }

    private async Task<string> ExecAsync(string id, params string[] command)
    {
        var result = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { command }, Timeout = 20 });
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)} exited {result.ExitCode}: {result.Stderr.ToStringUtf8()}");
        return result.Stdout.ToStringUtf8();
    }

    private static string Words(string text) => string.Join(' ', text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The container's init as the host sees it, from ContainerStatus' verbose info (containerd's shape).</summary>
    private async Task<int> HostPidOfAsync(string id)
    {
        var status = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("pid").GetInt32();
    }

    /// <summary>The real uid and gid of a host process, from its /proc status.</summary>
    private static (string Uid, string Gid) HostOwnerOf(int pid)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/status");
        string Field(string name) => lines.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        return (Field("Uid"), Field("Gid"));
    }

    [Fact]
    public async Task Status_EmbeddedHandlerReportsUserNamespaces()
    {
        var status = await Runtime.StatusAsync(new StatusRequest());

        Assert.True(status.RuntimeHandlers.Single(h => h.Name == "crioci").Features.UserNamespaces);
    }

    [Fact]
    public async Task LayersOnAFileSystemWithoutIdmappedMounts_StatusSaysNoAndModePodIsUnimplemented()
    {
        // overlayfs takes no id-mapped mounts itself (a node whose /var/lib is an overlay, as in a container).
        var baseDirectory = Path.Combine(Path.GetTempPath(), "crioci-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var part in new[] { "lower", "upper", "work", "root" })
        {
            Directory.CreateDirectory(Path.Combine(baseDirectory, part == "root" ? "root" : "overlay-" + part));
        }
        await CommandRunner.RunAsync("mount", ["-t", "overlay", "overlay", "-o",
            $"lowerdir={baseDirectory}/overlay-lower,upperdir={baseDirectory}/overlay-upper,workdir={baseDirectory}/overlay-work", $"{baseDirectory}/root"]);
        var daemon = await DaemonProcess.StartAsync(baseDirectory);
        try
        {
            var status = await daemon.Client.Runtime.StatusAsync(new StatusRequest());
            var pod = CriRequests.Pod("userns-refused", Path.Combine(baseDirectory, "logs"));
            pod.Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = Namespaces(NamespaceMode.Container) } };
            var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
                await daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = pod }));

            Assert.False(status.RuntimeHandlers.Single(h => h.Name == "crioci").Features.UserNamespaces);
            Assert.Equal(Grpc.Core.StatusCode.Unimplemented, error.StatusCode);
            Assert.Contains("userns_options", error.Status.Detail);
            Assert.Empty((await daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
            Assert.Empty(HostInspection.MountsUnder(daemon.StateDirectory));
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(baseDirectory);
        }
    }

    [Fact]
    public async Task ModePod_ContainersRunMappedShareTheNamespaceAndOwnTheirFiles()
    {
        var hostFile = Path.Combine(_volume, "from-host");
        await File.WriteAllTextAsync(hostFile, "host root wrote this\n");
        var pod = Pod("userns");
        var podId = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = pod })).PodSandboxId;
        var first = await StartAsync(podId, pod, "first", "sleep", "3601");
        var second = await StartAsync(podId, pod, "second", "sleep", "3602");

        Assert.Equal($"0 {HostBase} {Size}", Words(await ExecAsync(first, "cat", "/proc/self/uid_map")));
        Assert.Equal($"0 {HostBase} {Size}", Words(await ExecAsync(first, "cat", "/proc/self/gid_map")));
        // Root inside can write its own root file system, which the image's files came from.
        Assert.Equal("0 0 0 0", Words(await ExecAsync(first, "sh", "-c",
            "touch /made-in-root /tmp/made-in-tmp && echo more >> /etc/passwd && stat -c '%u %g' /made-in-root && stat -c '%u %g' /bin/busybox")));
        // The volume is id-mapped: the host's root is the pod's root.
        Assert.Equal("0 0", Words(await ExecAsync(first, "stat", "-c", "%u %g", "/data/from-host")));
        await ExecAsync(first, "sh", "-c", "echo from-pod > /data/from-pod");
        Assert.Equal("0 0", (await CommandRunner.RunAsync("stat", ["-c", "%u %g", Path.Combine(_volume, "from-pod")])).StandardOutput.Trim());
        // Both containers are in one user namespace, the pod's, not the host's.
        var userNamespace = await ExecAsync(first, "readlink", "/proc/self/ns/user");
        Assert.Equal(userNamespace, await ExecAsync(second, "readlink", "/proc/self/ns/user"));
        Assert.NotEqual(File.ResolveLinkTarget("/proc/self/ns/user", returnFinalTarget: false)!.Name, userNamespace.Trim());
        // From the host, the container's processes are the pod's host uid, not root.
        Assert.Equal((HostBase.ToString(), HostBase.ToString()), HostOwnerOf(await HostPidOfAsync(first)));
        // The pod's files: hostname, resolv.conf readable, /dev/shm writable.
        Assert.Equal("userns", (await ExecAsync(first, "hostname")).Trim());
        await ExecAsync(first, "cat", "/etc/resolv.conf", "/etc/hosts");
        await ExecAsync(first, "sh", "-c", "echo x > /dev/shm/x && cat /dev/shm/x");
        // Networking: the pod's address and loopback, in a network namespace the pod's root owns.
        var podStatus = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId });
        var podIp = podStatus.Status.Network.Ip;
        Assert.False(string.IsNullOrEmpty(podIp));
        var addresses = await ExecAsync(first, "ip", "-4", "addr");
        Assert.Contains(podIp, addresses);
        Assert.Contains("127.0.0.1", addresses);
        await ExecAsync(first, "ping", "-c", "1", "-W", "5", "127.0.0.1");
        await ExecAsync(second, "ping", "-c", "1", "-W", "5", podIp);

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        Assert.Equal("host root wrote this\n", await File.ReadAllTextAsync(hostFile));
    }

    [Fact]
    public async Task ModePodWithSharedPid_ContainersSeeEachOtherInAPidNamespaceThePodOwns()
    {
        var pod = Pod("userns-shared-pid", NamespaceMode.Pod);
        var podId = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = pod })).PodSandboxId;
        var first = await StartAsync(podId, pod, "first", "sleep", "3601");
        var second = await StartAsync(podId, pod, "second", "sleep", "3602");

        Assert.Contains("sleep 3602", await ExecAsync(first, "ps"));
        Assert.Contains("pod-infra", await ExecAsync(second, "cat", "/proc/1/cmdline"));
        Assert.Equal(await ExecAsync(first, "readlink", "/proc/self/ns/user"), await ExecAsync(second, "readlink", "/proc/self/ns/user"));

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    [Fact]
    public async Task ModePod_DaemonKilledAndRestarted_PodStopsAndRemovesCleanly()
    {
        var pod = Pod("userns-survivor");
        var podId = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = pod })).PodSandboxId;
        var first = await StartAsync(podId, pod, "first", "sleep", "3601");
        var userNamespace = await ExecAsync(first, "readlink", "/proc/self/ns/user");

        await _daemon.KillAsync();
        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);

        var second = await StartAsync(podId, pod, "second", "sleep", "3602");
        Assert.Equal(userNamespace, await ExecAsync(second, "readlink", "/proc/self/ns/user"));
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }
}
