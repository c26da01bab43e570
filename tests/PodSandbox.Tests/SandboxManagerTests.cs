using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Namespaces;
using CriOci.PodSandbox.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests;

/// <summary>
/// SandboxManager over real temporary directories with fakes for everything that would touch
/// the kernel: namespace pins, mounts and the OCI runtime. The fakes share one call log.
/// </summary>
public sealed class SandboxManagerTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-manager-").FullName;
    private readonly SandboxManagerOptions _options;
    private readonly CallLog _log = new();
    private readonly FakeNamespacePinner _pinner;
    private readonly FakeMounter _mounter;
    private readonly FakeContainerRuntime _runtime;

    public SandboxManagerTests()
    {
        _options = new SandboxManagerOptions(Path.Combine(_temp, "root"), Path.Combine(_temp, "state"), "/nonexistent/crioci-runtime");
        _pinner = new FakeNamespacePinner(_log);
        _mounter = new FakeMounter(_log);
        _runtime = new FakeContainerRuntime(_log);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>A manager over the test's directories: a second call is a restarted daemon.</summary>
    private SandboxManager NewManager(FakeContainerRuntime? runtime = null) =>
        new(_options, runtime ?? _runtime, _pinner, _mounter, new FakeCniInvoker(new CallLog()), NullLogger.Instance);

    private string PodStateDirectory(string id) => Path.Combine(_options.StateDirectory, "pods", id);

    private string PodRecordDirectory(string id) => Path.Combine(_options.RootDirectory, "pods", id);

    private static PodSandboxConfig PodConfig(string name = "web", uint attempt = 0, Action<PodSandboxConfig>? change = null)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "shop", Uid = "uid-" + name, Attempt = attempt },
            Hostname = name + "-0",
            LogDirectory = "/var/log/pods/shop_" + name,
        };
        config.Labels.Add("app", name);
        change?.Invoke(config);
        return config;
    }

    private static ContainerConfig ContainerConfig(string name = "app")
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name, Attempt = 0 },
            Image = new ImageSpec { Image = "busybox" },
            LogPath = name + "/0.log",
        };
        config.Command.Add("/bin/sleep");
        config.Args.Add("3600");
        return config;
    }

    private static readonly IReadOnlyDictionary<int, ContainerImage> NoImageVolumes = new Dictionary<int, ContainerImage>();

    private static ContainerImage Image(string id = "sha256:busybox") => new(
        id, "docker.io/library/busybox:1.36", ["/layers/busybox"], User: null, Env: ["PATH=/bin"],
        Entrypoint: [], Cmd: ["sh"], WorkingDir: null, StopSignal: null);

    /// <summary>Directories left under a root (the pods/ or containers/ level), empty when nothing is.</summary>
    private static IReadOnlyList<string> Children(string directory) =>
        Directory.Exists(directory) ? Directory.GetFileSystemEntries(directory).Select(p => Path.GetFileName(p)).ToList() : [];

    // ---- RunPodSandbox

    public static TheoryData<string, PodSandboxMetadata?> MissingMetadataCases => new()
    {
        { "no metadata", null },
        { "no name", new PodSandboxMetadata { Namespace = "ns", Uid = "u" } },
        { "no namespace", new PodSandboxMetadata { Name = "n", Uid = "u" } },
        { "no uid", new PodSandboxMetadata { Name = "n", Namespace = "ns" } },
    };

    [Theory]
    [MemberData(nameof(MissingMetadataCases))]
    public async Task RunPodSandboxAsync_MissingMetadata_ThrowsInvalidArgumentAndTouchesNothing(string name, PodSandboxMetadata? metadata)
    {
        var manager = NewManager();
        var config = new PodSandboxConfig { Metadata = metadata };

        var exception = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(config, "", CancellationToken.None));

        Assert.Contains("metadata", exception.Message);
        Assert.True(_log.Calls.Count == 0, name);
        Assert.Empty(Children(Path.Combine(_options.StateDirectory, "pods")));
    }

    [Fact]
    public async Task RunPodSandboxAsync_UnknownRuntimeHandler_ThrowsInvalidArgument()
    {
        var manager = NewManager();

        await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(PodConfig(), "kata", CancellationToken.None));

        Assert.Empty(_log.Calls);
    }

    [Fact]
    public async Task RunPodSandboxAsync_NewPod_PinsNamespacesMountsShmAndPersists()
    {
        var manager = NewManager();

        var id = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);

        var state = PodStateDirectory(id);
        Assert.Equal([$"Pin {state}/ns", $"MountTmpfs {state}/shm mode=1777,size=65536k"], _log.Calls);
        Assert.Equal(new PodNamespaceRequest(Network: true, Ipc: true, Uts: true, Hostname: "web-0"), Assert.Single(_pinner.Requests));
        Assert.Equal("web-0\n", File.ReadAllText(Path.Combine(state, "hostname")));
        // The fake network hands out 10.87.0.2 (see Network/SandboxManagerNetworkTests for CNI).
        Assert.Contains("10.87.0.2\tweb-0\n", File.ReadAllText(Path.Combine(state, "hosts")));
        Assert.True(File.Exists(Path.Combine(state, "resolv.conf")));
        Assert.True(File.Exists(Path.Combine(PodRecordDirectory(id), "sandbox.json")));
        var status = manager.PodSandboxStatus(id, verbose: false).Status;
        Assert.Equal(PodSandboxState.SandboxReady, status.State);
        Assert.Equal("web", status.Metadata.Name);
        Assert.Equal(id, Assert.Single(manager.ListPodSandbox(null)).Id);
    }

    [Fact]
    public async Task RunPodSandboxAsync_HostNetworkAndIpc_CreatesNoNamespacesAndUsesHostShm()
    {
        var manager = NewManager();
        var config = PodConfig(change: c => c.Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext
            {
                NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Ipc = NamespaceMode.Node, Pid = NamespaceMode.Container },
            },
        });

        var id = await manager.RunPodSandboxAsync(config, "", CancellationToken.None);

        Assert.Equal(new PodNamespaceRequest(Network: false, Ipc: false, Uts: false, Hostname: "web-0"), Assert.Single(_pinner.Requests));
        Assert.DoesNotContain(_log.Calls, c => c.StartsWith("MountTmpfs", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes("/etc/hosts"), File.ReadAllBytes(Path.Combine(PodStateDirectory(id), "hosts")));
    }

    [Fact]
    public async Task RunPodSandboxAsync_SameNameTwice_ThrowsAlreadyExistsWithoutPinning()
    {
        var manager = NewManager();
        var first = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _log.Clear();

        var exception = await Assert.ThrowsAsync<AlreadyExistsException>(() => manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None));

        Assert.Contains(first, exception.Message);
        Assert.Empty(_log.Calls);
        Assert.Single(manager.ListPodSandbox(null));
        Assert.Equal([first], Children(Path.Combine(_options.StateDirectory, "pods")));
    }

    [Fact]
    public async Task RunPodSandboxAsync_SameNameNextAttempt_Succeeds()
    {
        var manager = NewManager();
        await manager.RunPodSandboxAsync(PodConfig(attempt: 0), "", CancellationToken.None);

        await manager.RunPodSandboxAsync(PodConfig(attempt: 1), "", CancellationToken.None);

        Assert.Equal(2, manager.ListPodSandbox(null).Count);
    }

    [Fact]
    public async Task RunPodSandboxAsync_PinnerFails_LeavesNothingAndReleasesTheName()
    {
        var manager = NewManager();
        _pinner.PinFailure = new UnavailableException("unshare: operation not permitted");

        var exception = await Assert.ThrowsAsync<UnavailableException>(() => manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None));

        Assert.Contains("unshare", exception.Message);
        Assert.DoesNotContain(_log.Calls, c => c.StartsWith("MountTmpfs", StringComparison.Ordinal));
        Assert.Empty(Children(Path.Combine(_options.StateDirectory, "pods")));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "pods")));
        Assert.Empty(manager.ListPodSandbox(null));
        _pinner.PinFailure = null;
        var id = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        Assert.Equal(id, Assert.Single(manager.ListPodSandbox(null)).Id);
    }

    [Fact]
    public async Task RunPodSandboxAsync_MounterFails_UnpinsAndLeavesNothing()
    {
        var manager = NewManager();
        _mounter.TmpfsFailure = new IOException("mount tmpfs: no space");

        await Assert.ThrowsAsync<IOException>(() => manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None));

        var calls = _log.Calls;
        Assert.Equal(3, calls.Count);
        Assert.StartsWith("Pin ", calls[0]);
        Assert.StartsWith("MountTmpfs ", calls[1]);
        var pinDirectory = calls[0]["Pin ".Length..];
        Assert.Equal($"Unpin {pinDirectory}", calls[2]);
        Assert.Empty(Children(Path.Combine(_options.StateDirectory, "pods")));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "pods")));
        _mounter.TmpfsFailure = null;
        await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
    }

    [Fact]
    public async Task RunPodSandboxAsync_NamespacesPinned_AfterThePodsRecordDirectoryExists()
    {
        // A daemon killed right after pinning must leave something the next start recognises as
        // an incomplete pod (NewManager_IncompletePodDirectory_IsCleanedUpInTheBackground), or the
        // pins stay mounted forever.
        var manager = NewManager();
        var recordDirectoryExisted = false;
        _pinner.OnPin = pinDirectory =>
        {
            var id = Path.GetFileName(Path.GetDirectoryName(pinDirectory))!;
            recordDirectoryExisted = Directory.Exists(Path.Combine(_options.RootDirectory, "pods", id));
        };

        await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);

        Assert.True(recordDirectoryExisted, "namespaces were pinned before the pod's record directory existed");
    }

    [Fact]
    public async Task RunPodSandboxAsync_FailureAfterEverySideEffect_UndoesThemInReverseOrder()
    {
        var manager = NewManager();
        var config = PodConfig(change: c =>
        {
            c.DnsConfig = new DNSConfig();
            c.DnsConfig.Servers.Add("not-an-ip");
        });

        await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(config, "", CancellationToken.None));

        var calls = _log.Calls;
        var state = calls[0]["Pin ".Length..^"/ns".Length];
        Assert.Equal(
            [$"Pin {state}/ns", $"MountTmpfs {state}/shm mode=1777,size=65536k", $"Unmount {state}/shm", $"Unpin {state}/ns"],
            calls);
        Assert.False(Directory.Exists(state));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "pods")));
        config.DnsConfig.Servers[0] = "10.96.0.10";
        await manager.RunPodSandboxAsync(config, "", CancellationToken.None);
    }

    // ---- idempotent stop and remove

    [Fact]
    public async Task StopAndRemove_UnknownIds_SucceedWithoutSideEffects()
    {
        var manager = NewManager();

        await manager.StopPodSandboxAsync("no-such-pod", CancellationToken.None);
        await manager.RemovePodSandboxAsync("no-such-pod", CancellationToken.None);
        await manager.StopContainerAsync("no-such-container", TimeSpan.FromSeconds(1), CancellationToken.None);
        await manager.RemoveContainerAsync("no-such-container", CancellationToken.None);
        await manager.StopPodSandboxAsync("", CancellationToken.None);

        Assert.Empty(_log.Calls);
    }

    [Fact]
    public async Task StopPodSandboxAsync_RunningContainer_KillsItAndMarksThePodNotReady()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var container = await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        await manager.StartContainerAsync(container, CancellationToken.None);
        _log.Clear();

        await manager.StopPodSandboxAsync(pod, CancellationToken.None);
        await manager.StopPodSandboxAsync(pod, CancellationToken.None);

        Assert.Equal([$"Kill {container} 9", $"Unmount {PodStateDirectory(pod)}/ns/net"], _log.Calls);
        Assert.Equal(PodSandboxState.SandboxNotready, manager.PodSandboxStatus(pod, false).Status.State);
        Assert.Equal(PodSandboxState.SandboxNotready, NewManager().PodSandboxStatus(pod, false).Status.State);
        Assert.Equal(ContainerState.ContainerExited, manager.ContainerStatus(container, false).Status.State);
    }

    [Fact]
    public async Task RemovePodSandboxAsync_WithContainer_ReleasesEverythingAndFreesTheName()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var container = await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        var bundle = Path.Combine(_options.StateDirectory, "containers", container);
        _log.Clear();

        await manager.RemovePodSandboxAsync(pod, CancellationToken.None);

        Assert.Contains($"Delete {container}", _log.Calls);
        Assert.Contains($"Unmount {bundle}/rootfs", _log.Calls);
        Assert.Contains($"Unpin {PodStateDirectory(pod)}/ns", _log.Calls);
        Assert.Contains($"Unmount {PodStateDirectory(pod)}/shm", _log.Calls);
        Assert.True(_log.Calls.ToList().IndexOf($"Unmount {bundle}/rootfs") < _log.Calls.ToList().IndexOf($"Unpin {PodStateDirectory(pod)}/ns"),
            "the pod's namespaces were released before its container");
        Assert.False(Directory.Exists(PodStateDirectory(pod)));
        Assert.False(Directory.Exists(PodRecordDirectory(pod)));
        Assert.False(Directory.Exists(bundle));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "containers")));
        Assert.Empty(manager.ListPodSandbox(null));
        Assert.Empty(manager.ListContainers(null));
        await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
    }

    // ---- containers

    [Fact]
    public async Task CreateContainerAsync_NewContainer_MountsRootfsWritesBundleAndCreates()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _log.Clear();

        var id = await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);

        var bundle = Path.Combine(_options.StateDirectory, "containers", id);
        Assert.Equal([$"MountOverlay {bundle}/rootfs", $"Create {id}"], _log.Calls);
        Assert.True(File.Exists(Path.Combine(bundle, "config.json")));
        Assert.Equal(ContainerState.ContainerCreated, manager.ContainerStatus(id, false).Status.State);
        Assert.Equal("/var/log/pods/shop_web/app/0.log", manager.ContainerStatus(id, false).Status.LogPath);
    }

    [Fact]
    public async Task CreateContainerAsync_SameNameTwice_ThrowsAlreadyExists()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None));

        Assert.Single(manager.ListContainers(null));
    }

    [Fact]
    public async Task CreateContainerAsync_UnknownPod_ThrowsNotFound()
    {
        var manager = NewManager();

        await Assert.ThrowsAsync<NotFoundException>(() => manager.CreateContainerAsync("no-such-pod", ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None));
    }

    [Fact]
    public async Task CreateContainerAsync_RuntimeFails_UnmountsAndDeletesEverythingInReverse()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _runtime.CreateFailure = new UnavailableException("create container: boom");
        _log.Clear();

        await Assert.ThrowsAsync<UnavailableException>(() => manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None));

        var calls = _log.Calls;
        Assert.Equal(3, calls.Count);
        Assert.StartsWith("MountOverlay ", calls[0]);
        Assert.StartsWith("Create ", calls[1]);
        Assert.Equal($"Unmount {calls[0]["MountOverlay ".Length..]}", calls[2]);
        Assert.Empty(Children(Path.Combine(_options.StateDirectory, "containers")));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "containers")));
        Assert.Empty(manager.ListContainers(null));
        _runtime.CreateFailure = null;
        await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
    }

    [Fact]
    public async Task CreateContainerAsync_OverlayFails_DoesNotUnmountWhatWasNeverMounted()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _mounter.OverlayFailure = new IOException("overlay: invalid argument");
        _log.Clear();

        await Assert.ThrowsAsync<IOException>(() => manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None));

        Assert.Single(_log.Calls);
        Assert.Empty(Children(Path.Combine(_options.StateDirectory, "containers")));
        Assert.Empty(Children(Path.Combine(_options.RootDirectory, "containers")));
    }

    [Fact]
    public async Task IsImageInUse_FollowsContainerLifetime()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var before = manager.IsImageInUse("sha256:busybox");

        var id = await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        var during = manager.IsImageInUse("sha256:busybox");
        var other = manager.IsImageInUse("sha256:other");
        await manager.RemoveContainerAsync(id, CancellationToken.None);
        var after = manager.IsImageInUse("sha256:busybox");

        Assert.False(before);
        Assert.True(during);
        Assert.False(other);
        Assert.False(after);
    }

    [Fact]
    public async Task ExecSyncAsync_RunningContainer_UsesTheContainersProcessWithTheCommand()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var id = await manager.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        _runtime.ExecResult = new OciRuntime.ExecResult(3, "out"u8.ToArray(), "err"u8.ToArray());

        var response = await manager.ExecSyncAsync(id, ["cat", "/etc/hostname"], TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal(3, response.ExitCode);
        Assert.Equal("out", response.Stdout.ToStringUtf8());
        Assert.Equal("err", response.Stderr.ToStringUtf8());
        Assert.Equal(["cat", "/etc/hostname"], _runtime.LastExecProcess!.Args!);
        Assert.Contains("PATH=/bin", _runtime.LastExecProcess.Env!);
    }

    // ---- restart

    [Fact]
    public async Task NewManager_SameRoot_SeesPodsAndContainersOfThePreviousOne()
    {
        var first = NewManager();
        var pod = await first.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var container = await first.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        await first.StartContainerAsync(container, CancellationToken.None);

        var restarted = NewManager();

        var pods = restarted.ListPodSandbox(null);
        var listedPod = Assert.Single(pods);
        Assert.Equal(pod, listedPod.Id);
        Assert.Equal("web", listedPod.Metadata.Name);
        Assert.Equal("web", listedPod.Labels["app"]);
        var listedContainer = Assert.Single(restarted.ListContainers(null));
        Assert.Equal(container, listedContainer.Id);
        Assert.Equal(pod, listedContainer.PodSandboxId);
        Assert.Equal(ContainerState.ContainerRunning, listedContainer.State);
        Assert.NotEqual(0, restarted.ContainerStatus(container, false).Status.StartedAt);
        Assert.True(restarted.IsImageInUse("sha256:busybox"));
        await Assert.ThrowsAsync<AlreadyExistsException>(() => restarted.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None));
        await Assert.ThrowsAsync<AlreadyExistsException>(() => restarted.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None));
        await Assert.ThrowsAsync<FailedPreconditionException>(() => restarted.StartContainerAsync(container, CancellationToken.None));
    }

    [Fact]
    public async Task NewManager_KilledBetweenSavingStartedAtAndStarting_ReportsCreatedAndStartsAgain()
    {
        // StartContainer saves started_at, then releases the process; a daemon killed between the
        // two leaves a record that says started and a runtime that says created.
        var first = NewManager();
        var pod = await first.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var container = await first.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);
        var recordPath = Path.Combine(_options.RootDirectory, "containers", container, "container.json");
        var record = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(recordPath), PodSandbox.Storage.StoreJsonContext.Default.ContainerRecord)!;
        File.WriteAllBytes(recordPath, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record with { StartedAt = DateTimeOffset.UtcNow },
            PodSandbox.Storage.StoreJsonContext.Default.ContainerRecord));

        var restarted = NewManager();
        var before = restarted.ContainerStatus(container, false).Status;
        await restarted.StartContainerAsync(container, CancellationToken.None);
        var after = restarted.ContainerStatus(container, false).Status;

        Assert.Equal(ContainerState.ContainerCreated, before.State);
        Assert.Equal(0, before.StartedAt);
        Assert.Equal(ContainerState.ContainerRunning, after.State);
        Assert.NotEqual(0, after.StartedAt);
    }

    [Fact]
    public async Task NewManager_RuntimeLostTheContainer_ListAndStatusAgreeItExited()
    {
        // After a reboot the runtime's tmpfs state is gone while the records remain.
        // ContainerStatus reports such a container as exited (code 255, reason Unknown);
        // ListContainers must report the same state for it, or kubelet sees two answers.
        var first = NewManager();
        var pod = await first.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        var container = await first.CreateContainerAsync(pod, ContainerConfig(), PodConfig(), Image(), NoImageVolumes, CancellationToken.None);

        var restarted = NewManager(new FakeContainerRuntime(_log));
        var status = restarted.ContainerStatus(container, false).Status;
        var listed = Assert.Single(restarted.ListContainers(null));

        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal(255, status.ExitCode);
        Assert.Equal(status.State, listed.State);
    }

    [Fact]
    public async Task NewManager_IncompleteContainerDirectory_IsCleanedUpInTheBackground()
    {
        // A daemon killed in the middle of CreateContainer leaves the container's directory
        // without container.json.
        var orphan = "0123456789abcdef";
        Directory.CreateDirectory(Path.Combine(_options.RootDirectory, "containers", orphan, "upper"));
        Directory.CreateDirectory(Path.Combine(_options.StateDirectory, "containers", orphan, "rootfs"));

        var manager = NewManager();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Directory.Exists(Path.Combine(_options.RootDirectory, "containers", orphan)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Empty(manager.ListContainers(null));
        Assert.False(Directory.Exists(Path.Combine(_options.RootDirectory, "containers", orphan)));
        Assert.False(Directory.Exists(Path.Combine(_options.StateDirectory, "containers", orphan)));
        Assert.Contains($"Delete {orphan}", _log.Calls);
        Assert.Contains($"Unmount {Path.Combine(_options.StateDirectory, "containers", orphan, "rootfs")}", _log.Calls);
    }

    [Fact]
    public async Task NewManager_IncompletePodDirectory_IsCleanedUpInTheBackground()
    {
        var orphan = "fedcba9876543210";
        Directory.CreateDirectory(Path.Combine(_options.RootDirectory, "pods", orphan));
        Directory.CreateDirectory(Path.Combine(_options.StateDirectory, "pods", orphan, "shm"));

        var manager = NewManager();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Directory.Exists(Path.Combine(_options.RootDirectory, "pods", orphan)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Empty(manager.ListPodSandbox(null));
        Assert.False(Directory.Exists(Path.Combine(_options.RootDirectory, "pods", orphan)));
        Assert.False(Directory.Exists(Path.Combine(_options.StateDirectory, "pods", orphan)));
        Assert.Contains($"Unpin {Path.Combine(_options.StateDirectory, "pods", orphan, "ns")}", _log.Calls);
        Assert.Contains($"Unmount {Path.Combine(_options.StateDirectory, "pods", orphan, "shm")}", _log.Calls);
    }
}
