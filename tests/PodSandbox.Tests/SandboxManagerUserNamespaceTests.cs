using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Handlers;
using CriOci.PodSandbox.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests;

/// <summary>
/// userns_options (Kubernetes hostUsers: false): a pod that asks for its own user namespace is
/// either given one or refused with a clear status, never run in the host's; bad maps are InvalidArgument.
/// </summary>
public sealed class SandboxManagerUserNamespaceTests : IDisposable
{
    private static readonly IReadOnlyDictionary<int, ContainerImage> NoImageVolumes = new Dictionary<int, ContainerImage>();

    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-userns-").FullName;
    private readonly SandboxManagerOptions _options;
    private readonly CallLog _log = new();
    private readonly FakeContainerRuntime _runtime;
    private readonly FakeNamespacePinner _pinner;

    public SandboxManagerUserNamespaceTests()
    {
        _options = new SandboxManagerOptions(Path.Combine(_temp, "root"), Path.Combine(_temp, "state"), "/nonexistent/crioci-runtime");
        _runtime = new FakeContainerRuntime(_log);
        _pinner = new FakeNamespacePinner(_log);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private SandboxManager NewManager(bool podUserNamespaces = false) =>
        new(_options, new RuntimeHandlerSet("crioci", _runtime, new Dictionary<string, OciRuntime.IContainerRuntime>(), podUserNamespaces),
            _pinner, new FakeMounter(_log), new FakeCniInvoker(new CallLog()), NullLogger.Instance, new FakePodInfra(_log));

    private static IDMapping Map(uint containerId, uint hostId, uint length) => new() { ContainerId = containerId, HostId = hostId, Length = length };

    private static UserNamespace Pod(params IDMapping[] maps)
    {
        var userns = new UserNamespace { Mode = NamespaceMode.Pod };
        userns.Uids.AddRange(maps);
        userns.Gids.AddRange(maps);
        return userns;
    }

    private static PodSandboxConfig PodConfig(UserNamespace? userns, NamespaceMode network = NamespaceMode.Pod, string name = "web") => new()
    {
        Metadata = new PodSandboxMetadata { Name = name, Namespace = "shop", Uid = "uid-" + name },
        Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext
            {
                NamespaceOptions = new NamespaceOption { Network = network, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod, UsernsOptions = userns },
            },
        },
    };

    private static ContainerConfig ContainerConfig(UserNamespace? userns) => new()
    {
        Metadata = new ContainerMetadata { Name = "app" },
        Image = new ImageSpec { Image = "busybox" },
        Command = { "/bin/sleep", "3600" },
        Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Container, UsernsOptions = userns } },
        },
    };

    private static async Task<string> OwnerAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u %g", path]) { RedirectStandardOutput = true })!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }

    private static ContainerImage Image() => new(
        "sha256:busybox", "docker.io/library/busybox:1.36", ["/layers/busybox"], User: null, Env: ["PATH=/bin"],
        Entrypoint: [], Cmd: ["sh"], WorkingDir: null, StopSignal: null);

    [Fact]
    public async Task RunPodSandbox_ModePodOnAHandlerWithoutSupport_UnimplementedAndNothingCreated()
    {
        using var manager = NewManager(podUserNamespaces: false);

        var error = await Assert.ThrowsAsync<UnimplementedException>(() =>
            manager.RunPodSandboxAsync(PodConfig(Pod(Map(0, 100000, 65536))), "", CancellationToken.None));

        Assert.Contains("userns_options", error.Message);
        Assert.Contains("user_namespaces false", error.Message);
        Assert.Empty(_pinner.Requests);
        Assert.Empty(manager.ListPodSandbox(null));
    }

    public static TheoryData<UserNamespace, string> BadMaps => new()
    {
        { Pod(), "at least one mapping" },
        { Pod(Map(1, 100000, 65536)), "container id 0" },
        { Pod(Map(0, 100000, 0)), "size 0" },
        { Pod(Map(0, 4294967000, 65536)), "largest id" },
        { Pod(Map(4294967000, 100000, 65536)), "largest id" },
        { Pod(Map(0, 100000, 65536), Map(1000, 300000, 10)), "overlap" },
        { new UserNamespace { Mode = NamespaceMode.Node, Uids = { Map(0, 100000, 65536) } }, "mode NODE" },
        { new UserNamespace { Mode = NamespaceMode.Container }, "only POD or NODE" },
        { new UserNamespace { Mode = NamespaceMode.Target }, "only POD or NODE" },
    };

    [Theory]
    [MemberData(nameof(BadMaps))]
    public async Task RunPodSandbox_BadUserNamespaceOptions_InvalidArgumentNamingTheField(UserNamespace userns, string reason)
    {
        // Even on a handler that supports user namespaces: the request itself is wrong.
        using var manager = NewManager(podUserNamespaces: true);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(PodConfig(userns), "", CancellationToken.None));

        Assert.Contains("userns_options", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.Empty(_pinner.Requests);
    }

    [Fact]
    public async Task RunPodSandbox_ModePodWithHostNetwork_InvalidArgument()
    {
        using var manager = NewManager(podUserNamespaces: true);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
            manager.RunPodSandboxAsync(PodConfig(Pod(Map(0, 100000, 65536)), network: NamespaceMode.Node), "", CancellationToken.None));

        Assert.Contains("network", error.Message);
    }

    [Fact]
    public async Task RunPodSandbox_ModeNodeWithoutMaps_RunsInTheHostsUserNamespace()
    {
        using var manager = NewManager();

        var id = await manager.RunPodSandboxAsync(PodConfig(new UserNamespace { Mode = NamespaceMode.Node }), "", CancellationToken.None);

        Assert.True(manager.PodSandboxStatus(id, verbose: false).Status.State == PodSandboxState.SandboxReady);
    }

    [Fact]
    public async Task CreateContainer_ModePodInAPodOfTheHostsUserNamespace_InvalidArgumentAndNoContainer()
    {
        using var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(null), "", CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.CreateContainerAsync(
            pod, ContainerConfig(Pod(Map(0, 100000, 65536))), PodConfig(null), Image(), NoImageVolumes, CancellationToken.None));

        Assert.Contains("host's user namespace", error.Message);
        Assert.DoesNotContain(_log.Calls, call => call.StartsWith("Create", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreateContainer_BadMapsInAPodOfTheHostsUserNamespace_InvalidArgument()
    {
        using var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(null), "", CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.CreateContainerAsync(
            pod, ContainerConfig(Pod(Map(5, 100000, 65536))), PodConfig(null), Image(), NoImageVolumes, CancellationToken.None));

        Assert.Contains("container id 0", error.Message);
    }

    [Fact]
    public async Task ModePodSupported_PodPinsItsUserNamespaceAndTheContainerJoinsItWithIdmappedLayersAndVolumes()
    {
        using var manager = NewManager(podUserNamespaces: true);
        var maps = Pod(Map(0, 100000, 65536));
        var podConfig = PodConfig(maps);
        var pod = await manager.RunPodSandboxAsync(podConfig, "", CancellationToken.None);
        var container = ContainerConfig(maps);
        container.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = Path.Combine(_temp, "volume") });

        var id = await manager.CreateContainerAsync(pod, container, podConfig, Image(), NoImageVolumes, CancellationToken.None);

        var request = Assert.Single(_pinner.Requests);
        Assert.Equal([new OciRuntime.Linux.IdRange(0, 100000, 65536)], request.UserNamespace!.Uids);
        var userPin = Path.Combine(_options.StateDirectory, "pods", pod, "ns", "user");
        var bundle = Path.Combine(_options.StateDirectory, "containers", id);
        // Each image layer is id-mapped by the pod's namespace for the overlay, then let go.
        Assert.Contains($"BindIdmapped /layers/busybox {bundle}/layers/0 {userPin}", _log.Calls);
        Assert.Contains($"Unmount {bundle}/layers/0", _log.Calls);
        Assert.False(Directory.Exists(Path.Combine(bundle, "layers")));
        // The writable layer's root is the pod's root on the host.
        var upper = Path.Combine(_options.RootDirectory, "containers", id, "upper");
        Assert.Equal("100000 100000", await OwnerAsync(upper));
        var spec = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(bundle, "config.json")), OciRuntime.Spec.OciJsonContext.Default.RuntimeSpec)!;
        Assert.Contains(spec.Linux!.Namespaces!, n => n.Type == "user" && n.Path == userPin);
        Assert.Equal(100000u, Assert.Single(spec.Linux.UidMappings!).HostId);
        Assert.Equal(100000u, Assert.Single(spec.Linux.GidMappings!).HostId);
        var volume = spec.Mounts!.Single(m => m.Destination == "/data");
        Assert.Contains("idmap", volume.Options!);
        Assert.Equal(100000u, Assert.Single(volume.UidMappings!).HostId);
    }

    [Fact]
    public async Task ModePodSupported_ContainerAskingForOtherMaps_InvalidArgument()
    {
        using var manager = NewManager(podUserNamespaces: true);
        var podConfig = PodConfig(Pod(Map(0, 100000, 65536)));
        var pod = await manager.RunPodSandboxAsync(podConfig, "", CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.CreateContainerAsync(
            pod, ContainerConfig(Pod(Map(0, 200000, 65536))), podConfig, Image(), NoImageVolumes, CancellationToken.None));
        var node = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.CreateContainerAsync(
            pod, ContainerConfig(new UserNamespace { Mode = NamespaceMode.Node }), podConfig, Image(), NoImageVolumes, CancellationToken.None));

        Assert.Contains("differ", error.Message);
        Assert.Contains("mode NODE", node.Message);
        Assert.DoesNotContain(_log.Calls, call => call.StartsWith("Create", StringComparison.Ordinal));
    }

    [Fact]
    public void RuntimeHandlerSet_WithoutThePodSide_ReportsNoUserNamespacesForAnyHandler()
    {
        var handlers = new RuntimeHandlerSet("crioci", _runtime, new Dictionary<string, OciRuntime.IContainerRuntime> { ["fast"] = new FakeContainerRuntime(new CallLog()) });

        Assert.All(handlers.Handlers, h => Assert.False(h.Features.UserNamespaces));
        Assert.False(handlers.SupportsUserNamespaces(""));
        Assert.False(handlers.SupportsUserNamespaces("fast"));
    }

    [Fact]
    public void RuntimeHandlerSet_WithThePodSide_ReportsUserNamespacesForTheEmbeddedHandlerOnly()
    {
        var handlers = new RuntimeHandlerSet("crioci", _runtime,
            new Dictionary<string, OciRuntime.IContainerRuntime> { ["fast"] = new FakeContainerRuntime(new CallLog()) }, podUserNamespaces: true);

        Assert.True(handlers.SupportsUserNamespaces(""));
        Assert.True(handlers.SupportsUserNamespaces("crioci"));
        // A fake binary answers no `features`: it supports nothing.
        Assert.False(handlers.SupportsUserNamespaces("fast"));
        Assert.Equal([true, false], handlers.Handlers.Select(h => h.Features.UserNamespaces));
    }
}
