using System.Text.Json.Nodes;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Network;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>
/// Which networks CniInvoker attaches in-process and which through the plugins: the built-in one
/// natively (portmap still exec'd after it for host ports, given the native result as prevResult),
/// admin conflists and pods cached by the plugin path through the plugins as written.
/// </summary>
public sealed class CniInvokerNativeBridgeTests : IDisposable
{
    private const string NativeResult = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"crioci0","mac":"aa:bb:cc:dd:ee:01"},{"name":"veth01234567","mac":"aa:bb:cc:dd:ee:02"},
         {"name":"eth0","mac":"aa:bb:cc:dd:ee:03","sandbox":"/run/netns/x"}],
         "ips":[{"interface":2,"address":"10.87.0.5/16","gateway":"10.87.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}
        """;

    private readonly FakePluginDirectory _cni = new();
    private readonly FakeNativeBridge _native = new(NativeResult);

    public void Dispose() => _cni.Dispose();

    private CniInvoker NewInvoker() =>
        new(new CniOptions(_cni.ConfigDirectory, [_cni.BinDirectory], TimeSpan.FromSeconds(20)), NullLogger.Instance, new RecordingMasquerade(), _native);

    private CniPodRequest Pod(int hostPort = 0) =>
        new("pod1234", _cni.Netns, "web", "shop", "uid-1",
            hostPort == 0 ? [] : [new PortMapping { ContainerPort = 80, HostPort = hostPort }], null);

    [Fact]
    public async Task AddAndDelete_BuiltInNetworkNoHostPorts_NoPluginRunsAndPodIpsFromNativeResult()
    {
        var attachment = await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);
        Assert.True(CniCache.Read(_cni.CacheDirectory)!.NativeBridge);
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["10.87.0.5"], attachment.Ips);
        Assert.Empty(_cni.Recorded());
        Assert.Equal(["ADD pod1234 crioci0", "DEL pod1234 crioci0"], _native.Calls);
        Assert.False(NewInvoker().HasAttachment(_cni.CacheDirectory));
    }

    [Fact]
    public async Task AddAndDelete_BuiltInNetworkWithHostPort_PortmapChainedWithNativeResult()
    {
        _cni.AddResultPlugin("portmap", NativeResult);

        await NewInvoker().AddAsync(Pod(hostPort: 8080), _cni.CacheDirectory, CancellationToken.None);
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        var runs = _cni.Recorded();
        Assert.Equal(["portmap ADD", "portmap DEL"], runs.Select(r => $"{r.Type} {r.Command}"));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(NativeResult), runs[0].Stdin["prevResult"]));
        Assert.Equal(8080, (int?)runs[0].Stdin["runtimeConfig"]?["portMappings"]?[0]?["hostPort"]);
        Assert.Equal(["ADD pod1234 crioci0", "DEL pod1234 crioci0"], _native.Calls);
    }

    [Fact]
    public async Task AddAsync_AdminConflistShapedLikeTheBuiltIn_PluginsRunAsWritten()
    {
        _cni.AddResultPlugin("bridge", NativeResult);
        _cni.WriteConfig("10-crioci.conflist", DefaultNetwork.Build([DefaultNetwork.DefaultSubnet], portMappings: false).Json);

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["bridge ADD", "bridge DEL"], _cni.Recorded().Select(r => $"{r.Type} {r.Command}"));
        Assert.Empty(_native.Calls);
    }

    /// <summary>A pod an earlier CriOci attached through the bridge plugin (its cache entry has no native mark) is detached by the plugin.</summary>
    [Fact]
    public async Task DeleteAsync_PodAttachedThroughThePlugin_BridgePluginDeletes()
    {
        _cni.AddResultPlugin("bridge", NativeResult);
        var network = DefaultNetwork.Build([DefaultNetwork.DefaultSubnet], portMappings: false).Json;
        CniCache.Write(_cni.CacheDirectory, new CniCacheEntry(1, "pod1234", "eth0", _cni.Netns, "", network, "{}", NativeResult));

        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["bridge DEL"], _cni.Recorded().Select(r => $"{r.Type} {r.Command}"));
        Assert.Empty(_native.Calls);
    }

    [Fact]
    public async Task AddAsync_NativeStepFails_CacheMarkedSoDeleteUndoesNatively()
    {
        _native.FailAdd = true;

        await Assert.ThrowsAsync<CriOci.Core.UnavailableException>(() => NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None));
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["ADD pod1234 crioci0", "DEL pod1234 crioci0"], _native.Calls);
        Assert.Empty(_cni.Recorded());
    }

    private sealed class FakeNativeBridge(string result) : INativeBridge
    {
        public List<string> Calls { get; } = [];

        public bool FailAdd { get; set; }

        public Task<JsonObject> AddAsync(NativeBridgeConfig config, CniCacheEntry entry, string cniVersion, CancellationToken cancellationToken)
        {
            Calls.Add($"ADD {entry.PodSandboxId} {config.Bridge}");
            return FailAdd
                ? throw new CriOci.Core.UnavailableException("veth creation failed")
                : Task.FromResult(JsonNode.Parse(result)!.AsObject());
        }

        public Task DeleteAsync(NativeBridgeConfig config, CniCacheEntry entry, CancellationToken cancellationToken)
        {
            Calls.Add($"DEL {entry.PodSandboxId} {config.Bridge}");
            return Task.CompletedTask;
        }
    }
}
