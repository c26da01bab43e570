using CriOci.Core;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

public sealed class CniConfigLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-netd-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void Write(string name, string json) => File.WriteAllText(Path.Combine(_directory, name), json);

    [Fact]
    public void Load_EmptyDirectory_DefaultBridgeNetwork()
    {
        var network = new CniConfigLoader(_directory).Load().Network!;

        Assert.Equal("crioci", network.Name);
        Assert.Equal(["bridge", "portmap"], network.Plugins.Select(CniNetworkConfig.TypeOf));
        Assert.Equal("crioci0", (string?)network.Plugins[0]["bridge"]);
        Assert.Equal("10.87.0.0/16", (string?)network.Plugins[0]["ipam"]?["ranges"]?[0]?[0]?["subnet"]);
        Assert.True(CniNetworkConfig.HasCapability(network.Plugins[1], "portMappings"));
    }

    [Fact]
    public void Load_EmptyDirectory_MasqueradeNodeWideNotPerPod()
    {
        var loaded = new CniConfigLoader(_directory).Load();

        Assert.Equal(["10.87.0.0/16"], loaded.MasqueradeSubnets);
        Assert.False((bool?)loaded.Network!.Plugins[0]["ipMasq"]);
        Assert.False((bool?)loaded.WithoutPortMappings!.Plugins[0]["ipMasq"]);
    }

    [Fact]
    public void Load_AdminNetwork_NoNodeMasquerade()
    {
        Write("10-a.conflist", """{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge","ipMasq":true}]}""");

        Assert.Null(new CniConfigLoader(_directory).Load().MasqueradeSubnets);
    }

    [Fact]
    public void Load_MissingDirectory_DefaultNetwork() =>
        Assert.Equal("crioci", new CniConfigLoader(Path.Combine(_directory, "absent")).Load().Network!.Name);

    [Fact]
    public void SetDefaultSubnets_DualStackPodCidr_OneRangePerFamily()
    {
        var loader = new CniConfigLoader(_directory);

        loader.SetDefaultSubnets(DefaultNetwork.ParsePodCidr("10.244.1.0/24, fd00:244:1::/64"));

        var bridge = loader.Load().Network!.Plugins[0];
        var ipam = bridge["ipam"]!;
        Assert.Matches("^crioci[0-9a-f]{8}$", (string?)bridge["bridge"]);
        Assert.Equal("10.244.1.0/24", (string?)ipam["ranges"]?[0]?[0]?["subnet"]);
        Assert.Equal("fd00:244:1::/64", (string?)ipam["ranges"]?[1]?[0]?["subnet"]);
        Assert.Equal(["0.0.0.0/0", "::/0"], ipam["routes"]!.AsArray().Select(r => (string?)r?["dst"]));
    }

    [Fact]
    public void ParsePodCidr_NotACidr_InvalidArgument() =>
        Assert.Throws<InvalidArgumentException>(() => DefaultNetwork.ParsePodCidr("10.244.1.0"));

    [Fact]
    public void Load_SeveralFiles_LexicallyFirstValidOneWins()
    {
        Write("30-c.conflist", """{"cniVersion":"1.0.0","name":"c","plugins":[{"type":"bridge"}]}""");
        Write("10-a.conflist", """{"cniVersion":"1.0.0","name":"a","plugins":[]}""");
        Write("20-b.conf", """{"cniVersion":"0.4.0","name":"b","type":"ptp","ipam":{"type":"host-local"}}""");
        Write("00-readme.txt", "not a config");

        var network = new CniConfigLoader(_directory).Load().Network!;

        Assert.Equal("b", network.Name);
        Assert.Equal("0.4.0", network.CniVersion);
        Assert.Equal("ptp", CniNetworkConfig.TypeOf(Assert.Single(network.Plugins)));
    }

    public static TheoryData<string, string> InvalidCases => new()
    {
        { "{", "invalid JSON" },
        { """{"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}""", "no network name" },
        { """{"cniVersion":"2.0.0","name":"x","plugins":[{"type":"bridge"}]}""", "cniVersion 2.0.0 is not supported" },
        { """{"cniVersion":"1.0.0","name":"x","plugins":[{"ipam":{}}]}""", "plugins[0] has no type" },
        { """{"cniVersion":"1.0.0","name":"x","plugins":[{"type":"../../bin/sh"}]}""", "plugins[0]: type ../../bin/sh is not a plain binary name" },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Load_OnlyInvalidFile_ErrorNamesFileAndProblem(string json, string problem)
    {
        Write("10-x.conflist", json);

        var loaded = new CniConfigLoader(_directory).Load();

        Assert.Null(loaded.Network);
        Assert.Contains($"10-x.conflist: {problem}", loaded.Error);
    }

    [Fact]
    public void Load_FileChanged_Reloaded()
    {
        var loader = new CniConfigLoader(_directory);
        Write("10-a.conflist", """{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}""");
        Assert.Equal("a", loader.Load().Network!.Name);

        Write("10-a.conflist", """{"cniVersion":"1.0.0","name":"renamed","plugins":[{"type":"bridge"}]}""");
        File.SetLastWriteTimeUtc(Path.Combine(_directory, "10-a.conflist"), DateTime.UtcNow.AddSeconds(5));

        Assert.Equal("renamed", loader.Load().Network!.Name);
    }
}
