using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Network;
using CriOci.PodSandbox.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>How SandboxManager drives ICniInvoker: when ADD and DEL run relative to the netns pin, and what a pod reports.</summary>
public sealed class SandboxManagerNetworkTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-podnet-").FullName;
    private readonly SandboxManagerOptions _options;
    private readonly CallLog _log = new();
    private readonly FakeNamespacePinner _pinner;
    private readonly FakeMounter _mounter;
    private readonly FakeCniInvoker _cni;

    public SandboxManagerNetworkTests()
    {
        _options = new SandboxManagerOptions(Path.Combine(_temp, "root"), Path.Combine(_temp, "state"), "/nonexistent/crioci-runtime");
        _pinner = new FakeNamespacePinner(_log);
        _mounter = new FakeMounter(_log);
        _cni = new FakeCniInvoker(_log);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private SandboxManager NewManager() => new(_options, new FakeContainerRuntime(_log), _pinner, _mounter, _cni, NullLogger.Instance);

    private string State(string id) => Path.Combine(_options.StateDirectory, "pods", id);

    private static PodSandboxConfig PodConfig(Action<PodSandboxConfig>? change = null)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "web", Namespace = "shop", Uid = "uid-web" },
            Hostname = "web-0",
        };
        change?.Invoke(config);
        return config;
    }

    [Fact]
    public async Task RunPodSandboxAsync_Network_AddsAfterPinWithPodDetails()
    {
        var config = PodConfig(c => c.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = 8080 }));

        var id = await NewManager().RunPodSandboxAsync(config, "", CancellationToken.None);

        Assert.Equal([$"Pin {State(id)}/ns", $"CNI ADD {id}"], _log.Calls.Take(2));
        var request = Assert.Single(_cni.Requests);
        Assert.Equal((id, $"{State(id)}/ns/net", "web", "shop", "uid-web"),
            (request.PodSandboxId, request.NetworkNamespace, request.PodName, request.PodNamespace, request.PodUid));
        Assert.Equal(8080, Assert.Single(request.PortMappings).HostPort);
    }

    [Fact]
    public async Task PodSandboxStatus_DualStack_IPv4PrimaryOthersAdditional()
    {
        _cni.Ips = ["10.87.0.9", "fd00:87::9"];
        var manager = NewManager();
        var id = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);

        var network = manager.PodSandboxStatus(id, verbose: false).Status.Network;

        Assert.Equal("10.87.0.9", network.Ip);
        Assert.Equal(["fd00:87::9"], network.AdditionalIps.Select(ip => ip.Ip));
        Assert.Contains("10.87.0.9\tweb-0\n", File.ReadAllText(Path.Combine(State(id), "hosts")));
    }

    [Fact]
    public async Task RunPodSandboxAsync_HostNetwork_SkipsCni()
    {
        var manager = NewManager();
        var config = PodConfig(c => c.Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Pid = NamespaceMode.Container } },
        });

        var id = await manager.RunPodSandboxAsync(config, "", CancellationToken.None);
        await manager.RemovePodSandboxAsync(id, CancellationToken.None);

        Assert.Empty(_cni.Requests);
        Assert.DoesNotContain(_log.Calls, c => c.StartsWith("CNI", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunPodSandboxAsync_AddFails_DeletesBeforeUnpinAndLeavesNothing()
    {
        _cni.AddFailure = new UnavailableException("CNI plugin bridge ADD failed: boom");
        var manager = NewManager();

        var error = await Assert.ThrowsAsync<UnavailableException>(() => manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None));

        Assert.Contains("boom", error.Message);
        var id = Assert.Single(_cni.Requests).PodSandboxId;
        var calls = _log.Calls.ToList();
        Assert.True(calls.IndexOf($"CNI DEL {id}") < calls.IndexOf($"Unpin {State(id)}/ns"), string.Join("\n", calls));
        Assert.False(Directory.Exists(State(id)));
        Assert.False(Directory.Exists(Path.Combine(_options.RootDirectory, "pods", id)));
        Assert.Empty(manager.ListPodSandbox(null));
        // The name is free again: a retry by kubelet succeeds.
        _cni.AddFailure = null;
        await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
    }

    [Fact]
    public async Task StopPodSandboxAsync_Attached_DeletesBeforeNetnsUnmountOnce()
    {
        var manager = NewManager();
        var id = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _log.Clear();

        await manager.StopPodSandboxAsync(id, CancellationToken.None);
        await manager.StopPodSandboxAsync(id, CancellationToken.None);
        await manager.RemovePodSandboxAsync(id, CancellationToken.None);

        var calls = _log.Calls.ToList();
        Assert.Single(calls, c => c == $"CNI DEL {id}");
        Assert.True(calls.IndexOf($"CNI DEL {id}") < calls.IndexOf($"Unmount {State(id)}/ns/net"), string.Join("\n", calls));
    }

    [Fact]
    public async Task RemovePodSandboxAsync_AfterDaemonRestart_DeletesFromCache()
    {
        var id = await NewManager().RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _log.Clear();

        await NewManager().RemovePodSandboxAsync(id, CancellationToken.None);

        Assert.Contains($"CNI DEL {id}", _log.Calls);
        Assert.False(Directory.Exists(Path.Combine(_options.RootDirectory, "pods", id)));
    }

    [Fact]
    public async Task Recover_IncompletePodWithAttachment_DeletesNetwork()
    {
        // A daemon killed between ADD and writing sandbox.json: only the network cache is on disk.
        var cache = Path.Combine(_options.RootDirectory, "pods", "deadbeef");
        await _cni.AddAsync(new CniPodRequest("deadbeef", "/x", "web", "shop", "uid", [], null), cache, CancellationToken.None);
        _log.Clear();

        NewManager();

        for (var i = 0; i < 100 && Directory.Exists(cache); i++)
        {
            await Task.Delay(20);
        }
        Assert.Contains("CNI DEL deadbeef", _log.Calls);
        Assert.False(Directory.Exists(cache));
    }

    [Fact]
    public async Task NetworkStatusAsync_And_UpdatePodCidr_Delegate()
    {
        _cni.Readiness = new NetworkReadiness(false, NetworkReadiness.NotReadyReason, "bad file");
        var manager = NewManager();

        manager.UpdatePodCidr("10.244.1.0/24");

        Assert.Equal("bad file", (await manager.NetworkStatusAsync(CancellationToken.None)).Message);
        Assert.Equal(["10.244.1.0/24"], _cni.PodCidrs);
    }

    [Fact]
    public async Task CheckPodNetworkAsync_ReadyThenStopped_CheckedThenNotPerformed()
    {
        var manager = NewManager();
        var id = await manager.RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);
        _cni.CheckResult = new CniCheckResult(true, false, "eth0 is gone");

        var ready = await manager.CheckPodNetworkAsync(id, CancellationToken.None);
        await manager.StopPodSandboxAsync(id, CancellationToken.None);
        var stopped = await manager.CheckPodNetworkAsync(id, CancellationToken.None);

        Assert.Equal((true, false, "eth0 is gone"), (ready.Performed, ready.Succeeded, ready.Message));
        Assert.False(stopped.Performed);
        Assert.Single(_log.Calls, call => call.StartsWith("CNI CHECK", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewManager_ReadyPodLeftByTheLastDaemon_ItsNetworkIsChecked()
    {
        var id = await NewManager().RunPodSandboxAsync(PodConfig(), "", CancellationToken.None);

        NewManager();

        // The recovery check runs off the start-up path; wait for it without timing it.
        for (var attempt = 0; attempt < 500 && !_log.Calls.Any(call => call.StartsWith("CNI CHECK", StringComparison.Ordinal)); attempt++)
        {
            await Task.Delay(10);
        }
        Assert.Contains(_log.Calls, call => call == $"CNI CHECK {Path.Combine(_options.RootDirectory, "pods", id)}");
    }
}
