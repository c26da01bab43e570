using System.Text.Json.Nodes;
using CriOci.TestSupport;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// A CNI network that belongs to one test: its own bridge, subnet and host-local data directory,
/// so the veths on the bridge and the IP allocations are this test's and nobody else's (other
/// tests and helpers share the machine and the default crioci0 bridge). Only Debian's bridge and
/// host-local plugins; no gateway address and no masquerading, so nothing is routed or rewritten
/// on the host.
/// </summary>
public sealed class TestNetwork
{
    private TestNetwork(string name, string bridgeName, string subnet, string ipamDataDirectory)
    {
        Name = name;
        BridgeName = bridgeName;
        Subnet = subnet;
        IpamDataDirectory = ipamDataDirectory;
    }

    public string Name { get; }

    /// <summary>At most 15 characters (IFNAMSIZ - 1).</summary>
    public string BridgeName { get; }

    public string Subnet { get; }

    /// <summary>host-local's dataDir; allocations are files under Name in it.</summary>
    public string IpamDataDirectory { get; }

    /// <summary>Writes the network's conflist into <paramref name="cniConfigDirectory"/> (a daemon's --cni-conf-dir).</summary>
    /// <param name="ipRangesCapability">The bridge declares the ipRanges capability: kubelet's pod CIDR then replaces <see cref="Subnet"/>.</param>
    public static TestNetwork Create(string cniConfigDirectory, string ipamDataDirectory, bool ipRangesCapability = false)
    {
        var suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..8];
        // A /24 out of 10.200.0.0/13: off the daemon's defaults and every other test's; with no
        // gateway on the bridge the host gets no route to it, so even a clash would stay harmless.
        var subnet = $"10.{200 + Random.Shared.Next(8)}.{Random.Shared.Next(256)}.0/24";
        var network = new TestNetwork("e2e-" + suffix, "cce" + suffix, subnet, ipamDataDirectory);
        var conflist = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = network.Name,
            ["plugins"] = new JsonArray(new JsonObject
            {
                ["type"] = "bridge",
                ["bridge"] = network.BridgeName,
                ["isGateway"] = false,
                ["ipMasq"] = false,
                ["ipam"] = new JsonObject
                {
                    ["type"] = "host-local",
                    ["ranges"] = new JsonArray((JsonNode)new JsonArray(new JsonObject { ["subnet"] = subnet })),
                    ["dataDir"] = ipamDataDirectory,
                },
            }),
        };
        if (ipRangesCapability)
        {
            conflist["plugins"]![0]!["capabilities"] = new JsonObject { ["ipRanges"] = true };
        }
        Directory.CreateDirectory(cniConfigDirectory);
        File.WriteAllText(Path.Combine(cniConfigDirectory, "10-" + network.Name + ".conflist"), conflist.ToJsonString());
        return network;
    }

    /// <summary>The host ends of the veths attached to the bridge (none when the bridge does not exist yet).</summary>
    public IReadOnlyList<string> Veths()
    {
        var ports = Path.Combine("/sys/class/net", BridgeName, "brif");
        return Directory.Exists(ports) ? Directory.GetFileSystemEntries(ports).Select(p => Path.GetFileName(p)).ToList() : [];
    }

    /// <summary>host-local's allocation files: one per IP in use, named by the IP (its lock and last-reserved files excluded).</summary>
    public IReadOnlyList<string> IpamAllocations()
    {
        var directory = Path.Combine(IpamDataDirectory, Name);
        return Directory.Exists(directory)
            ? Directory.GetFiles(directory).Select(f => Path.GetFileName(f))
                .Where(f => f != "lock" && !f.StartsWith("last_reserved_ip", StringComparison.Ordinal)).ToList()
            : [];
    }

    /// <summary>The bridge plugin creates the bridge on the first ADD and never removes it.</summary>
    public async Task RemoveBridgeAsync()
    {
        if (Directory.Exists(Path.Combine("/sys/class/net", BridgeName)))
        {
            await CommandRunner.RunUncheckedAsync("ip", ["link", "del", BridgeName]);
        }
    }
}
