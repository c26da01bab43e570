using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using CriOci.Core;
using CriOci.PodSandbox.Network.HostLocal;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>
/// The in-process IPAM against host-local's on-disk format, and against the real plugin
/// (Debian's containernetworking-plugins in /usr/lib/cni) sharing one data directory both ways.
/// </summary>
public sealed class HostLocalStoreTests : IDisposable
{
    private const string HostLocalPlugin = "/usr/lib/cni/host-local";
    private const string Network = "testnet";

    private static readonly HostLocalRange V4 = new(IPNetwork.Parse("10.123.0.0/24"));
    private static readonly HostLocalRange V6 = new(IPNetwork.Parse("fd12::/64"));

    private readonly string _data = Directory.CreateTempSubdirectory("crioci-ipam-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private string NetworkDirectory => Path.Combine(_data, Network);

    private HostLocalStore Store() => new(_data);

    [Fact]
    public void Allocate_DualStack_FilesInHostLocalFormat()
    {
        var allocations = Store().Allocate(Network, "pod-a", "eth0", [V4, V6]);

        Assert.Equal(["10.123.0.2/24 via 10.123.0.1", "fd12::2/64 via fd12::1"], allocations.Select(a => $"{a.Address}/{a.PrefixLength} via {a.Gateway}"));
        Assert.Equal("pod-a\r\neth0"u8.ToArray(), File.ReadAllBytes(Path.Combine(NetworkDirectory, "10.123.0.2")));
        Assert.Equal("pod-a\r\neth0"u8.ToArray(), File.ReadAllBytes(Path.Combine(NetworkDirectory, "fd12::2")));
        Assert.Equal("10.123.0.2"u8.ToArray(), File.ReadAllBytes(Path.Combine(NetworkDirectory, "last_reserved_ip.0")));
        Assert.Equal("fd12::2"u8.ToArray(), File.ReadAllBytes(Path.Combine(NetworkDirectory, "last_reserved_ip.1")));
        Assert.True(File.Exists(Path.Combine(NetworkDirectory, "lock")));
    }

    [Fact]
    public void Allocate_StoreWrittenByHostLocal_RoundRobinPastTakenAndGateway()
    {
        // As host-local leaves it: the last address handed out, and the range's end taken by a pod.
        Directory.CreateDirectory(NetworkDirectory);
        File.WriteAllText(Path.Combine(NetworkDirectory, "last_reserved_ip.0"), "10.123.0.253");
        File.WriteAllText(Path.Combine(NetworkDirectory, "10.123.0.254"), "other\r\neth0");
        File.WriteAllText(Path.Combine(NetworkDirectory, "10.123.0.2"), "older");

        var allocation = Store().Allocate(Network, "pod-a", "eth0", [V4]).Single();

        // .254 is taken, .255 is the broadcast, .1 the gateway, .2 taken by an id-only (older) file.
        Assert.Equal(IPAddress.Parse("10.123.0.3"), allocation.Address);
    }

    [Fact]
    public void Allocate_SameContainerAndInterfaceTwice_RefusedAsDuplicate()
    {
        Store().Allocate(Network, "pod-a", "eth0", [V4]);

        var error = Assert.Throws<UnavailableException>(() => Store().Allocate(Network, "pod-a", "eth0", [V4]));

        Assert.Contains("duplicate allocation is not allowed", error.Message);
    }

    [Fact]
    public void Allocate_SecondRangeSetExhausted_FirstReleasedToo()
    {
        var tiny = new HostLocalRange(IPNetwork.Parse("10.124.0.0/30"));
        Store().Allocate(Network, "pod-a", "eth0", [tiny]);

        var error = Assert.Throws<UnavailableException>(() => Store().Allocate(Network, "pod-b", "eth0", [V4, tiny]));

        Assert.Contains("no IP addresses available", error.Message);
        Assert.False(File.Exists(Path.Combine(NetworkDirectory, "10.123.0.2")));
    }

    [Fact]
    public void Release_OwnAndIdOnlyFiles_RemovedOthersKept_SecondReleaseNoError()
    {
        Store().Allocate(Network, "pod-a", "eth0", [V4, V6]);
        File.WriteAllText(Path.Combine(NetworkDirectory, "10.123.0.9"), "pod-b\r\neth0");

        Store().Release(Network, "pod-a", "eth0");
        Store().Release(Network, "pod-a", "eth0");
        Store().Release("never-used", "pod-a", "eth0");

        Assert.Equal(["10.123.0.9", "last_reserved_ip.0", "last_reserved_ip.1", "lock"],
            Directory.GetFiles(NetworkDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RealHostLocal_SharesTheStoreBothWays()
    {
        Assert.True(File.Exists(HostLocalPlugin), $"{HostLocalPlugin} is missing: install Debian's containernetworking-plugins");

        Store().Allocate(Network, "ours", "eth0", [V4, V6]);
        var theirs = await RunHostLocalAsync("ADD", "theirs");
        // The plugin saw our files and our last_reserved_ip: it hands out the next addresses.
        Assert.Equal(["10.123.0.3/24", "fd12::3/64"], theirs!["ips"]!.AsArray().Select(ip => (string?)ip!["address"]));

        var next = Store().Allocate(Network, "third", "eth0", [V4, V6]);
        Assert.Equal(["10.123.0.4", "fd12::4"], next.Select(a => a.Address.ToString()));

        // Each side releases what the other wrote.
        await RunHostLocalAsync("DEL", "ours");
        Store().Release(Network, "theirs", "eth0");
        Assert.Equal(["10.123.0.4", "fd12::4", "last_reserved_ip.0", "last_reserved_ip.1", "lock"],
            Directory.GetFiles(NetworkDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private async Task<JsonNode?> RunHostLocalAsync(string command, string containerId)
    {
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = Network,
            ["ipam"] = new JsonObject
            {
                ["type"] = "host-local",
                ["dataDir"] = _data,
                ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = "10.123.0.0/24" }), new JsonArray(new JsonObject { ["subnet"] = "fd12::/64" })),
            },
        };
        var start = new ProcessStartInfo(HostLocalPlugin) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["CNI_COMMAND"] = command;
        start.Environment["CNI_CONTAINERID"] = containerId;
        start.Environment["CNI_NETNS"] = "/proc/self/ns/net";
        start.Environment["CNI_IFNAME"] = "eth0";
        start.Environment["CNI_PATH"] = "/usr/lib/cni";
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(config.ToJsonString());
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"host-local {command} failed: {output} {errors}");
        return output.Length > 0 ? JsonNode.Parse(output) : null;
    }
}
