using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CriOci.Core;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>
/// NativeBridge on the real kernel (tests run as root): pods in throwaway named network
/// namespaces on a bridge of their own subnet, beside the real bridge plugin given the same
/// config, so "the same result as the plugins" is checked, not assumed.
/// </summary>
public sealed partial class NativeBridgeTests : IDisposable
{
    private const string BridgePlugin = "/usr/lib/cni/bridge";

    private readonly string _suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private readonly string _data = Directory.CreateTempSubdirectory("crioci-nb-ipam-").FullName;
    private readonly List<string> _namespaces = [];
    private readonly CniNetworkConfig _network;
    private readonly NativeBridgeConfig _config;

    public NativeBridgeTests()
    {
        var third = RandomNumberGenerator.GetInt32(1, 250);
        _network = DefaultNetwork.Build([$"10.198.{third}.0/24", $"fd98:{third:x}::/64"], portMappings: false);
        _config = NativeBridgeConfig.TryFrom(_network) ?? throw new InvalidOperationException("the built-in network must be recognised");
    }

    public void Dispose()
    {
        foreach (var name in _namespaces)
        {
            Run("ip", "netns", "del", name);
        }
        Run("ip", "link", "del", _config.Bridge);
        Directory.Delete(_data, recursive: true);
    }

    private string NewNamespace(string tag)
    {
        var name = $"crioci-nbt-{_suffix}-{tag}";
        Assert.Equal(0, Run("ip", "netns", "add", name).ExitCode);
        _namespaces.Add(name);
        return name;
    }

    private static CniCacheEntry Entry(string id, string netns) =>
        new(1, id, "eth0", $"/run/netns/{netns}", "", "", "{}", null, NativeBridge: true);

    [Fact]
    public async Task AddAndDelete_SameStateAndResultAsTheBridgePlugin_DeleteIdempotent()
    {
        Assert.True(File.Exists(BridgePlugin), $"{BridgePlugin} is missing: install Debian's containernetworking-plugins");
        var native = NewNamespace("n");
        var plugin = NewNamespace("p");
        var bridge = new NativeBridge(_data);

        var nativeResult = await bridge.AddAsync(_config, Entry("native-pod", native), "1.0.0", CancellationToken.None);
        var pluginResult = RunBridgePlugin("ADD", "plugin-pod", plugin);

        Assert.Equal(Normalise(pluginResult.ToJsonString()), Normalise(nativeResult.ToJsonString()));
        Assert.Equal(Normalise(PodState(plugin)), Normalise(PodState(native)));
        var hostVeth = (string)nativeResult["interfaces"]![1]!["name"]!;
        Assert.Matches("^veth[0-9a-f]{8}$", hostVeth);
        Assert.Equal("1", File.ReadAllText($"/sys/class/net/{hostVeth}/brport/hairpin_mode").Trim());
        Assert.Equal(_config.Bridge, Path.GetFileName(Run("readlink", $"/sys/class/net/{hostVeth}/master").Output.Trim()));
        Assert.Equal("0", Run("ip", "netns", "exec", native, "cat", "/proc/sys/net/ipv6/conf/eth0/accept_dad").Output.Trim());
        // Both attachments share one allocator: the plugin got the address after ours.
        Assert.Equal(4, AddressFiles().Count);

        await bridge.DeleteAsync(_config, Entry("native-pod", native), CancellationToken.None);
        await bridge.DeleteAsync(_config, Entry("native-pod", native), CancellationToken.None);

        Assert.DoesNotContain("eth0", Run("ip", "netns", "exec", native, "ip", "-o", "link").Output);
        Assert.False(Directory.Exists($"/sys/class/net/{hostVeth}"));
        Assert.Equal(["plugin-pod\r\neth0", "plugin-pod\r\neth0"], AddressFiles().Select(f => File.ReadAllText(Path.Combine(_data, DefaultNetwork.Name, f))));
        RunBridgePlugin("DEL", "plugin-pod", plugin);
        Assert.Empty(AddressFiles());
    }

    [Fact]
    public async Task Add_PodAlreadyHasEth0_FailsClearlyAndLeavesNothing()
    {
        var pod = NewNamespace("x");
        Assert.Equal(0, Run("ip", "netns", "exec", pod, "ip", "link", "add", "eth0", "type", "bridge").ExitCode);
        var bridge = new NativeBridge(_data);

        var error = await Assert.ThrowsAsync<UnavailableException>(() => bridge.AddAsync(_config, Entry("pod-x", pod), "1.0.0", CancellationToken.None));

        Assert.Contains("already has an interface eth0", error.Message);
        Assert.Empty(AddressFiles());
        Assert.Equal("", Run("ip", "-o", "link", "show", "master", _config.Bridge).Output.Trim());
    }

    [Fact]
    public async Task Delete_NamespaceGone_AddressesReleased()
    {
        var pod = NewNamespace("g");
        var bridge = new NativeBridge(_data);
        await bridge.AddAsync(_config, Entry("pod-g", pod), "1.0.0", CancellationToken.None);
        Assert.Equal(0, Run("ip", "netns", "del", pod).ExitCode);

        await bridge.DeleteAsync(_config, Entry("pod-g", pod), CancellationToken.None);

        Assert.Empty(AddressFiles());
    }

    private List<string> AddressFiles() =>
        [.. Directory.GetFiles(Path.Combine(_data, DefaultNetwork.Name)).Select(f => Path.GetFileName(f)).Where(f => f != "lock" && !f.StartsWith("last_", StringComparison.Ordinal))];

    /// <summary>The bridge plugin given the built-in network's config, with host-local pointed at this test's data directory.</summary>
    private JsonObject RunBridgePlugin(string command, string containerId, string netns)
    {
        var config = _network.Plugins[0].DeepClone().AsObject();
        config["cniVersion"] = _network.CniVersion;
        config["name"] = _network.Name;
        config["ipam"]!["dataDir"] = _data;
        var start = new ProcessStartInfo(BridgePlugin) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["CNI_COMMAND"] = command;
        start.Environment["CNI_CONTAINERID"] = containerId;
        start.Environment["CNI_NETNS"] = $"/run/netns/{netns}";
        start.Environment["CNI_IFNAME"] = "eth0";
        start.Environment["CNI_PATH"] = "/usr/lib/cni";
        using var process = Process.Start(start)!;
        process.StandardInput.Write(config.ToJsonString());
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"bridge {command} failed: {output} {errors}");
        return output.Length > 0 ? JsonNode.Parse(output)!.AsObject() : [];
    }

    /// <summary>The pod's interfaces, addresses and routes as iproute2 prints them.</summary>
    private static string PodState(string netns) =>
        string.Join('\n',
            Run("ip", "netns", "exec", netns, "ip", "-o", "addr", "show", "dev", "eth0", "scope", "global").Output,
            Run("ip", "netns", "exec", netns, "ip", "-4", "route").Output,
            Run("ip", "netns", "exec", netns, "ip", "-6", "route", "show", "default").Output,
            Run("ip", "netns", "exec", netns, "ip", "-o", "link", "show", "eth0").Output);

    /// <summary>Names, MACs, interface indexes, host parts and lifetimes differ by nature between two pods; everything else must not.</summary>
    private static string Normalise(string text)
    {
        text = MacPattern().Replace(text, "MAC");
        text = VethPattern().Replace(text, "VETH");
        text = NetnsPattern().Replace(text, "NETNS");
        text = LastV4Octet().Replace(text, "$1.N/");
        text = LastV6Group().Replace(text, "$1::N/");
        text = IfIndexPattern().Replace(text, "IDX");
        text = SourcePattern().Replace(text, "src SRC");
        return text;
    }

    [GeneratedRegex("[0-9a-f]{2}(:[0-9a-f]{2}){5}")]
    private static partial Regex MacPattern();

    [GeneratedRegex("veth[0-9a-f]{8}")]
    private static partial Regex VethPattern();

    [GeneratedRegex("/run/netns/crioci-nbt-[0-9a-f]+-[a-z]|link-netns \\S+")]
    private static partial Regex NetnsPattern();

    [GeneratedRegex(@"(10\.198\.\d+)\.(?!1\b|0/|255)\d+/")]
    private static partial Regex LastV4Octet();

    [GeneratedRegex(@"(fd98:[0-9a-f]+)::(?!1\b)[0-9a-f]+/")]
    private static partial Regex LastV6Group();

    [GeneratedRegex(@"^\d+:|@if\d+", RegexOptions.Multiline)]
    private static partial Regex IfIndexPattern();

    [GeneratedRegex(@"src 10\.198\.\d+\.\d+")]
    private static partial Regex SourcePattern();

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
