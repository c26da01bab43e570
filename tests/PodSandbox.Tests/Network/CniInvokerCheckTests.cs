using System.Text.Json.Nodes;
using CriOci.PodSandbox.Network;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>CNI CHECK (SPEC.md) and the ipRanges capability, against shell-script plugins in a temporary CNI_PATH.</summary>
public sealed class CniInvokerCheckTests : IDisposable
{
    private const string Result = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"address":"10.1.0.5/24","interface":0}]}
        """;

    private readonly FakePluginDirectory _cni = new();

    public CniInvokerCheckTests() => File.WriteAllText(_cni.Netns, "");

    public void Dispose() => _cni.Dispose();

    private CniInvoker NewInvoker() => new(new CniOptions(_cni.ConfigDirectory, [_cni.BinDirectory], TimeSpan.FromSeconds(20)), NullLogger.Instance);

    private CniPodRequest Pod() => new("pod1234", _cni.Netns, "web", "shop", "uid-1", [], null);

    private static string TwoPluginList(string version, bool disableCheck = false) => $$$"""
        {"cniVersion":"{{{version}}}","name":"testnet","disableCheck":{{{(disableCheck ? "true" : "false")}}},"plugins":[
          {"type":"first","capabilities":{"ipRanges":true}},
          {"type":"second"}]}
        """;

    private async Task<CniInvoker> AttachedAsync(string version, bool disableCheck = false, string secondCheck = "")
    {
        _cni.AddResultPlugin("first", Result);
        _cni.AddPlugin("second", $$"""
            {{secondCheck}}
            if [ "$CNI_COMMAND" = ADD ]; then cat <<'EOF'
            {{Result}}
            EOF
            fi
            """);
        _cni.WriteConfig("10-test.conflist", TwoPluginList(version, disableCheck));
        var invoker = NewInvoker();
        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);
        return invoker;
    }

    [Fact]
    public async Task CheckAsync_Version100_RunsEveryPluginInAddOrderWithTheCachedResult()
    {
        var invoker = await AttachedAsync("1.0.0");

        var result = await invoker.CheckAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal((true, true), (result.Performed, result.Succeeded));
        var checks = _cni.Recorded().Where(r => r.Command == "CHECK").ToList();
        Assert.Equal(["first", "second"], checks.Select(r => r.Type));
        Assert.All(checks, run =>
        {
            Assert.Equal("pod1234", run.Env["CNI_CONTAINERID"]);
            Assert.Equal(_cni.Netns, run.Env["CNI_NETNS"]);
            Assert.Equal("10.1.0.5/24", run.Stdin["prevResult"]?["ips"]?[0]?["address"]?.GetValue<string>());
        });
    }

    [Fact]
    public async Task CheckAsync_PluginFails_NotSucceededWithThePluginsMessage()
    {
        var invoker = await AttachedAsync("0.4.0", secondCheck: """
            if [ "$CNI_COMMAND" = CHECK ]; then echo '{"cniVersion":"0.4.0","code":11,"msg":"eth0 is gone"}'; exit 1; fi
            """);

        var result = await invoker.CheckAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.Equal((true, false), (result.Performed, result.Succeeded));
        Assert.Contains("eth0 is gone", result.Message);
    }

    [Theory]
    [InlineData("0.3.1", false, "no CHECK")]
    [InlineData("1.0.0", true, "disableCheck")]
    public async Task CheckAsync_OldVersionOrDisabled_NotRun(string version, bool disableCheck, string reason)
    {
        var invoker = await AttachedAsync(version, disableCheck);

        var result = await invoker.CheckAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.False(result.Performed);
        Assert.Contains(reason, result.Message);
        Assert.DoesNotContain(_cni.Recorded(), r => r.Command == "CHECK");
    }

    [Fact]
    public async Task CheckAsync_NothingAttached_NotRun()
    {
        var result = await NewInvoker().CheckAsync(_cni.CacheDirectory, CancellationToken.None);

        Assert.False(result.Performed);
        Assert.Empty(_cni.Recorded());
    }

    [Fact]
    public async Task AddAsync_PodCidrSet_IpRangesOnlyForPluginsDeclaringIt()
    {
        _cni.AddResultPlugin("first", Result);
        _cni.AddResultPlugin("second", Result);
        _cni.WriteConfig("10-test.conflist", TwoPluginList("1.0.0"));
        var invoker = NewInvoker();
        invoker.SetPodCidr("10.244.3.0/24,fd00:3::/64");

        await invoker.AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"ipRanges":[[{"subnet":"10.244.3.0/24"}],[{"subnet":"fd00:3::/64"}]]}"""),
            _cni.Recorded()[0].Stdin["runtimeConfig"]));
        Assert.False(_cni.Recorded()[1].Stdin.ContainsKey("runtimeConfig"));
    }

    [Fact]
    public async Task AddAsync_NoPodCidr_NoIpRanges()
    {
        _cni.AddResultPlugin("first", Result);
        _cni.AddResultPlugin("second", Result);
        _cni.WriteConfig("10-test.conflist", TwoPluginList("1.0.0"));

        await NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None);

        Assert.False(_cni.Recorded()[0].Stdin.ContainsKey("runtimeConfig"));
    }
}
