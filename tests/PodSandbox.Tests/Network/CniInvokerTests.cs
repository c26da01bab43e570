using System.Diagnostics;
using System.Text.Json.Nodes;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Network;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>CniInvoker against shell-script plugins in a temporary CNI_PATH: what the CNI spec says a runtime passes and expects.</summary>
public sealed class CniInvokerTests : IDisposable
{
    private const string BridgeResult = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/run/netns/x"}],
         "ips":[{"address":"fd00:87::5/64","interface":1},{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":1}],"routes":[{"dst":"0.0.0.0/0"}]}
        """;

    private const string ChainedResult = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"address":"10.1.0.5/24","interface":0}]}
        """;

    private const string TwoPluginList = """
        {"cniVersion":"1.0.0","name":"testnet","plugins":[
          {"type":"first","ipam":{"type":"host-local"},"capabilities":{"dns":true}},
          {"type":"second","capabilities":{"portMappings":true,"bandwidth":true}}]}
        """;

    private readonly FakePluginDirectory _cni = new();
    private readonly RecordingMasquerade _masquerade = new();

    public CniInvokerTests() => File.WriteAllText(_cni.Netns, "");

    public void Dispose() => _cni.Dispose();

    private CniInvoker NewInvoker(TimeSpan? timeout = null) =>
        new(new CniOptions(_cni.ConfigDirectory, [_cni.BinDirectory], timeout ?? TimeSpan.FromSeconds(20)), NullLogger.Instance, _masquerade);

    private CniPodRequest Pod(Action<List<PortMapping>>? ports = null, DNSConfig? dns = null)
    {
        var mappings = new List<PortMapping>();
        ports?.Invoke(mappings);
        return new CniPodRequest("pod1234", _cni.Netns, "web", "shop", "uid-1", mappings, dns);
    }

    private void TwoPluginNetwork()
    {
        _cni.AddResultPlugin("first", BridgeResult);
        _cni.AddResultPlugin("second", ChainedResult);
        _cni.WriteConfig("10-test.conflist", TwoPluginList);
    }

    [Fact]
    public async Task AddAsync_Chain_RunsEachPluginWithSpecEnvironment()
    {
        TwoPluginNetwork();

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        var runs = _cni.Recorded();
        Assert.Equal(["first ADD", "second ADD"], runs.Select(r => $"{r.Type} {r.Command}"));
        foreach (var run in runs)
        {
            Assert.Equal("ADD", run.Env["CNI_COMMAND"]);
            Assert.Equal("pod1234", run.Env["CNI_CONTAINERID"]);
            Assert.Equal(_cni.Netns, run.Env["CNI_NETNS"]);
            Assert.Equal("eth0", run.Env["CNI_IFNAME"]);
            Assert.Equal(_cni.BinDirectory, run.Env["CNI_PATH"]);
            Assert.Equal("IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=pod1234;K8S_POD_UID=uid-1", run.Env["CNI_ARGS"]);
        }
    }

    [Fact]
    public async Task AddAsync_Chain_StdinHasNameVersionAndPrevResult()
    {
        TwoPluginNetwork();

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        var (first, second) = (_cni.Recorded()[0].Stdin, _cni.Recorded()[1].Stdin);
        Assert.Equal("testnet", (string?)first["name"]);
        Assert.Equal("1.0.0", (string?)first["cniVersion"]);
        Assert.Equal("host-local", (string?)first["ipam"]?["type"]);
        Assert.False(first.ContainsKey("prevResult"));
        Assert.Equal("testnet", (string?)second["name"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(BridgeResult), second["prevResult"]));
    }

    [Fact]
    public async Task AddAsync_Capabilities_EachPluginGetsOnlyWhatItDeclares()
    {
        TwoPluginNetwork();
        var dns = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "shop.svc.cluster.local" }, Options = { "ndots:5" } };

        await NewInvoker().AddAsync(Pod(ports => ports.AddRange(
            new PortMapping { ContainerPort = 8080, HostPort = 30080, Protocol = Protocol.Tcp },
            new PortMapping { ContainerPort = 53, HostPort = 30053, Protocol = Protocol.Udp, HostIp = "127.0.0.1" },
            new PortMapping { ContainerPort = 9090 }), dns), _cni.CacheDirectory, CancellationToken.None);

        var (first, second) = (_cni.Recorded()[0].Stdin, _cni.Recorded()[1].Stdin);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"dns":{"servers":["10.96.0.10"],"searches":["shop.svc.cluster.local"],"options":["ndots:5"]}}"""),
            first["runtimeConfig"]));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"portMappings":[{"hostPort":30080,"containerPort":8080,"protocol":"tcp"},{"hostPort":30053,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"}]}"""),
            second["runtimeConfig"]));
    }

    [Fact]
    public async Task AddAsync_BandwidthAnnotations_BandwidthCapabilityInBitsPerSecond()
    {
        TwoPluginNetwork();
        var annotations = new Dictionary<string, string> { ["kubernetes.io/ingress-bandwidth"] = "10M", ["kubernetes.io/egress-bandwidth"] = "1.5Ki" };

        await NewInvoker().AddAsync(Pod() with { Annotations = annotations }, _cni.CacheDirectory, CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"ingressRate":10000000,"ingressBurst":4294967295,"egressRate":1536,"egressBurst":4294967295}"""),
            _cni.Recorded()[1].Stdin["runtimeConfig"]?["bandwidth"]));
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("-1M")]
    [InlineData("")]
    public void BandwidthQuantity_Invalid_InvalidArgumentNamingAnnotation(string text) =>
        Assert.Contains("kubernetes.io/ingress-bandwidth", Assert.Throws<InvalidArgumentException>(() => Bandwidth.ParseQuantity("kubernetes.io/ingress-bandwidth", text)).Message);

    [Fact]
    public async Task AddAsync_Result_PodIpsIPv4First()
    {
        _cni.AddResultPlugin("first", BridgeResult);
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"0.4.0","name":"testnet","plugins":[{"type":"first"}]}""");

        var attachment = await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["10.1.0.5", "fd00:87::5"], attachment.Ips);
    }

    public static TheoryData<string, string[]> ResultCases => new()
    {
        { """{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.2.0.7/16","gateway":"10.2.0.1"}]}""", ["10.2.0.7"] },
        { """{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"fd00::7/64","interface":0}]}""", ["fd00::7"] },
        { """{"cniVersion":"1.0.0","interfaces":[{"name":"veth1"},{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"192.168.9.9/24","interface":0},{"address":"10.3.0.3/24","interface":1}]}""", ["10.3.0.3"] },
        { """{"cniVersion":"1.0.0"}""", [] },
    };

    [Theory]
    [MemberData(nameof(ResultCases))]
    public void PodIps_ResultVersions_AddressesOfThePodInterface(string result, string[] expected) =>
        Assert.Equal(expected, CniResult.PodIps(result, "eth0"));

    [Fact]
    public async Task AddAndDelete_BuiltInNetworkWithoutHostPorts_PortmapNeverRuns()
    {
        _cni.AddResultPlugin("bridge", BridgeResult);
        _cni.AddResultPlugin("portmap", BridgeResult);

        await NewInvoker().AddAsync(Pod(ports => ports.Add(new PortMapping { ContainerPort = 80 })), _cni.CacheDirectory, CancellationToken.None);
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal(["bridge ADD", "bridge DEL"], _cni.Recorded().Select(r => $"{r.Type} {r.Command}"));
    }

    [Fact]
    public async Task AddAndDelete_BuiltInNetworkWithHostPort_PortmapRunsBothWays()
    {
        _cni.AddResultPlugin("bridge", BridgeResult);
        _cni.AddResultPlugin("portmap", BridgeResult);

        await NewInvoker().AddAsync(Pod(ports => ports.Add(new PortMapping { ContainerPort = 80, HostPort = 8080 })), _cni.CacheDirectory, CancellationToken.None);
        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        var runs = _cni.Recorded();
        Assert.Equal(["bridge ADD", "portmap ADD", "portmap DEL", "bridge DEL"], runs.Select(r => $"{r.Type} {r.Command}"));
        Assert.Equal(8080, (int?)runs[1].Stdin["runtimeConfig"]?["portMappings"]?[0]?["hostPort"]);
    }

    [Fact]
    public async Task AddAsync_BuiltInNetwork_NodeMasqueradeEnsuredAndPluginMasqueradeOff()
    {
        _cni.AddResultPlugin("bridge", BridgeResult);

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.Equal([["10.87.0.0/16"]], _masquerade.Calls);
        Assert.False((bool?)_cni.Recorded().Single().Stdin["ipMasq"]);
    }

    [Fact]
    public async Task AddAsync_PodCidrThenBuiltInNetwork_NodeMasqueradeForThePodCidr()
    {
        _cni.AddResultPlugin("bridge", BridgeResult);
        var invoker = NewInvoker();
        invoker.SetPodCidr("10.244.1.0/24,fd00:244:1::/64");

        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.Equal([["10.244.1.0/24", "fd00:244:1::/64"]], _masquerade.Calls);
    }

    [Fact]
    public async Task AddAsync_AdminNetwork_NoNodeMasquerade()
    {
        TwoPluginNetwork();

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.Empty(_masquerade.Calls);
    }

    /// <summary>
    /// A pod attached by an earlier version, whose built-in network had the bridge plugin
    /// masquerade per pod: its DEL must still hand the plugin ipMasq true, or the pod's nat chain
    /// would stay behind forever.
    /// </summary>
    [Fact]
    public async Task DeleteAsync_PodAttachedWithPerPodMasquerade_BridgeDelGetsIpMasqTrue()
    {
        _cni.AddResultPlugin("bridge", BridgeResult);
        var earlierNetwork = JsonNode.Parse(DefaultNetwork.Build([DefaultNetwork.DefaultSubnet], portMappings: false).Json)!;
        earlierNetwork["plugins"]![0]!["ipMasq"] = true;
        CniCache.Write(_cni.CacheDirectory, new CniCacheEntry(1, "pod1234", "eth0", _cni.Netns, "", earlierNetwork.ToJsonString(), "{}", BridgeResult));

        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        var delete = _cni.Recorded().Single();
        Assert.Equal("bridge DEL", $"{delete.Type} {delete.Command}");
        Assert.True((bool?)delete.Stdin["ipMasq"]);
        Assert.Empty(_masquerade.Calls);
    }

    [Fact]
    public async Task DeleteAsync_AfterRestartAndConfigChange_UsesCachedConfigInReverseWithPrevResult()
    {
        TwoPluginNetwork();
        await NewInvoker().AddAsync(Pod(ports => ports.Add(new PortMapping { ContainerPort = 80, HostPort = 8080 })), _cni.CacheDirectory, CancellationToken.None);
        File.Delete(Path.Combine(_cni.ConfigDirectory, "10-test.conflist"));
        _cni.WriteConfig("05-other.conflist", """{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"third"}]}""");

        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        var deletes = _cni.Recorded().Skip(2).ToList();
        Assert.Equal(["second DEL", "first DEL"], deletes.Select(r => $"{r.Type} {r.Command}"));
        Assert.All(deletes, run => Assert.Equal("testnet", (string?)run.Stdin["name"]));
        Assert.All(deletes, run => Assert.Equal(_cni.Netns, run.Env["CNI_NETNS"]));
        Assert.All(deletes, run => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ChainedResult), run.Stdin["prevResult"])));
        Assert.Equal(8080, (int?)deletes[0].Stdin["runtimeConfig"]?["portMappings"]?[0]?["hostPort"]);
        Assert.False(NewInvoker().HasAttachment(_cni.CacheDirectory));
    }

    [Fact]
    public async Task AddAsync_SecondPluginFails_ThrowsPluginMessageAndDeleteUndoesBoth()
    {
        _cni.AddResultPlugin("first", BridgeResult);
        _cni.AddPlugin("second", """
            if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","code":11,"msg":"port 30080 is taken","details":"bind: address in use"}'; exit 1; fi
            """);
        _cni.WriteConfig("10-test.conflist", TwoPluginList);
        var invoker = NewInvoker();

        var error = await Assert.ThrowsAsync<UnavailableException>(() => invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None));
        Assert.Equal("CNI plugin second ADD failed: port 30080 is taken: bind: address in use (code 11)", error.Message);
        Assert.True(invoker.HasAttachment(_cni.CacheDirectory));
        await invoker.DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        var deletes = _cni.Recorded().Skip(2).ToList();
        Assert.Equal(["second DEL", "first DEL"], deletes.Select(r => $"{r.Type} {r.Command}"));
        Assert.All(deletes, run => Assert.False(run.Stdin.ContainsKey("prevResult")));
        Assert.False(invoker.HasAttachment(_cni.CacheDirectory));
    }

    [Fact]
    public async Task AddAsync_PluginHangs_KilledAfterTimeout()
    {
        _cni.AddPlugin("first", "sleep 300");
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"first"}]}""");
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => NewInvoker(TimeSpan.FromMilliseconds(500)).AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Assert.Contains("did not finish within 0.5s", error.Message);
        Assert.Empty(Fixtures.LiveProcessesRunning(Path.Combine(_cni.BinDirectory, "first")));
    }

    [Fact]
    public async Task DeleteAsync_PluginSaysUnknownContainer_Tolerated()
    {
        _cni.AddPlugin("first", """
            if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","ips":[]}'; else echo '{"code":3,"msg":"unknown container"}'; exit 1; fi
            """);
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"first"}]}""");
        var invoker = NewInvoker();
        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        await invoker.DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.False(invoker.HasAttachment(_cni.CacheDirectory));
    }

    [Fact]
    public async Task DeleteAsync_RealFailure_ThrowsAndKeepsCache()
    {
        _cni.AddPlugin("first", """
            if [ "$CNI_COMMAND" = ADD ]; then echo '{"cniVersion":"1.0.0","ips":[]}'; else echo 'iptables is locked' >&2; exit 1; fi
            """);
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"first"}]}""");
        var invoker = NewInvoker();
        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        var error = await Assert.ThrowsAsync<UnavailableException>(() => invoker.DeleteAsync(_cni.CacheDirectory, CancellationToken.None));

        Assert.Equal("CNI plugin first DEL failed: exit status 1: iptables is locked", error.Message);
        Assert.True(invoker.HasAttachment(_cni.CacheDirectory));
    }

    [Fact]
    public async Task DeleteAsync_NetnsGone_RunsWithEmptyNetns()
    {
        _cni.AddResultPlugin("first", ChainedResult);
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"first"}]}""");
        var invoker = NewInvoker();
        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);
        File.Delete(_cni.Netns);

        await invoker.DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal("", _cni.Recorded()[1].Env.GetValueOrDefault("CNI_NETNS", ""));
    }

    [Fact]
    public async Task DeleteAsync_NothingCached_RunsNothing()
    {
        TwoPluginNetwork();

        await NewInvoker().DeleteAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Empty(_cni.Recorded());
    }

    // ---- Status

    [Fact]
    public async Task StatusAsync_ValidNetworkWithPlugins_Ready()
    {
        TwoPluginNetwork();

        var status = await NewInvoker().StatusAsync(CancellationToken.None);

        Assert.True(status.Ready, status.Message);
    }

    [Fact]
    public async Task StatusAsync_OnlyAnInvalidFile_NotReadyNamingTheFile()
    {
        _cni.WriteConfig("10-broken.conflist", """{"cniVersion":"1.0.0","name":"broken","plugins":[""");

        var status = await NewInvoker().StatusAsync(CancellationToken.None);

        Assert.False(status.Ready);
        Assert.Equal("NetworkPluginNotReady", status.Reason);
        Assert.Contains("10-broken.conflist: invalid JSON", status.Message);
    }

    [Fact]
    public async Task StatusAsync_PluginMissing_NotReady()
    {
        _cni.WriteConfig("10-test.conflist", TwoPluginList);

        var status = await NewInvoker().StatusAsync(CancellationToken.None);

        Assert.False(status.Ready);
        Assert.Contains($"CNI plugin first not found in {_cni.BinDirectory}", status.Message);
    }

    [Fact]
    public async Task StatusAsync_Version110PluginStatusFails_NotReady()
    {
        _cni.AddPlugin("first", """
            if [ "$CNI_COMMAND" = STATUS ]; then echo '{"code":50,"msg":"no IP addresses left"}'; exit 1; fi
            """);
        _cni.WriteConfig("10-test.conflist", """{"cniVersion":"1.1.0","name":"testnet","plugins":[{"type":"first"}]}""");

        var status = await NewInvoker().StatusAsync(CancellationToken.None);

        Assert.False(status.Ready);
        Assert.Contains("no IP addresses left (code 50)", status.Message);
        Assert.Equal("STATUS", _cni.Recorded().Single().Env["CNI_COMMAND"]);
    }

    [Fact]
    public async Task StatusAsync_EmptyDirectoryAndDebianPlugins_DefaultNetworkReady()
    {
        var invoker = new CniInvoker(new CniOptions(_cni.ConfigDirectory, CniOptions.DefaultPluginDirectories, TimeSpan.FromSeconds(5)), NullLogger.Instance);

        var status = await invoker.StatusAsync(CancellationToken.None);

        // The CI machines install Debian's containernetworking-plugins (scripts/install-test-deps.sh).
        Assert.True(status.Ready, status.Message);
    }

    [Fact]
    public async Task StatusAsync_ConfigAppearsLater_Reloaded()
    {
        var invoker = NewInvoker();
        Assert.False((await invoker.StatusAsync(CancellationToken.None)).Ready);

        TwoPluginNetwork();

        Assert.True((await invoker.StatusAsync(CancellationToken.None)).Ready);
    }
}

/// <summary>Records what the invoker asks to masquerade, and touches no iptables.</summary>
internal sealed class RecordingMasquerade : INodeMasquerade
{
    public List<string[]> Calls { get; } = [];

    public Task EnsureAsync(IReadOnlyList<string> subnets, CancellationToken cancellationToken)
    {
        lock (Calls)
        {
            Calls.Add([.. subnets]);
        }
        return Task.CompletedTask;
    }
}
