using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The network used when the CNI config directory holds no config at all, so a fresh node works
/// without set-up: Debian's standard bridge + host-local + portmap plugins. It lives in memory
/// only: writing it into /etc/cni/net.d would make it look like the admin's config to every
/// other runtime on the node.
/// </summary>
internal static class DefaultNetwork
{
    public const string Name = "crioci";

    public const string BridgeName = "crioci0";

    /// <summary>
    /// Chosen off the defaults of the runtimes that may share a node: podman (10.88.0.0/16) and
    /// CRI-O's example bridge (10.85.0.0/16). kubelet's pod CIDR replaces it (UpdateRuntimeConfig).
    /// </summary>
    public const string DefaultSubnet = "10.87.0.0/16";

    /// <summary>
    /// The bridge conflist for <paramref name="subnets"/> (one host-local range set per subnet: dual
    /// stack works). The default subnet uses <see cref="BridgeName"/>; any other (kubelet's pod CIDR)
    /// gets a bridge named after it, because the bridge plugin refuses to put a gateway of a second
    /// IPv4 subnet on a bridge that has one ("already has an IP address different from ..."), and
    /// forcing it would cut off the pods still on the old subnet.
    /// <paramref name="portMappings"/> false leaves portmap out, for pods that map no host port.
    /// </summary>
    public static CniNetworkConfig Build(IReadOnlyList<string> subnets, bool portMappings = true)
    {
        var bridge = subnets is [DefaultSubnet]
            ? BridgeName
            : "crioci" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes(string.Join(',', subnets))))[..8];
        var ranges = new JsonArray();
        var routes = new JsonArray();
        foreach (var subnet in subnets)
        {
            ranges.Add((JsonNode)new JsonArray(new JsonObject { ["subnet"] = subnet }));
            var v6 = IPNetwork.Parse(subnet).BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;
            routes.Add((JsonNode)new JsonObject { ["dst"] = v6 ? "::/0" : "0.0.0.0/0" });
        }
        var plugins = new JsonArray(
                new JsonObject
                {
                    ["type"] = "bridge",
                    ["bridge"] = bridge,
                    ["isGateway"] = true,
                    // Pods still reach beyond the node through one masquerade rule per subnet
                    // (NodeMasquerade) instead of the plugin's nat chain per pod.
                    ["ipMasq"] = false,
                    ["hairpinMode"] = true,
                    ["ipam"] = new JsonObject
                    {
                        ["type"] = "host-local",
                        ["ranges"] = ranges,
                        ["routes"] = routes,
                    },
                });
        if (portMappings)
        {
            plugins.Add((JsonNode)new JsonObject
            {
                ["type"] = "portmap",
                ["capabilities"] = new JsonObject { ["portMappings"] = true },
            });
        }
        var list = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = Name,
            ["plugins"] = plugins,
        };
        return CniNetworkConfig.Parse(list.ToJsonString(), "built-in default network", isList: true);
    }

    /// <summary>Splits and checks kubelet's pod_cidr ("10.244.1.0/24" or "10.244.1.0/24,fd00:1::/64").</summary>
    public static IReadOnlyList<string> ParsePodCidr(string podCidr)
    {
        var subnets = new List<string>();
        foreach (var part in podCidr.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IPNetwork.TryParse(part, out var network))
            {
                throw new Core.InvalidArgumentException($"pod_cidr: {part} is not a CIDR");
            }
            subnets.Add(network.ToString());
        }
        return subnets;
    }
}
