using System.Net;
using System.Text.Json.Nodes;
using CriOci.PodSandbox.Network.HostLocal;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The bridge step of a network done in-process instead of by the bridge and host-local plugins:
/// only a network exactly as <see cref="DefaultNetwork.Build"/> writes it (bridge, isGateway,
/// hairpin, no ipMasq, host-local with plain subnets and routes; portmap after it, if anything).
/// Whatever else (an admin's conflist, a pod cached by an older CriOci whose bridge masqueraded
/// per pod) is not recognised and runs the plugins exactly as written.
/// </summary>
internal sealed record NativeBridgeConfig(string Network, string Bridge, IReadOnlyList<HostLocalRange> Ranges, IReadOnlyList<JsonObject> Routes)
{
    private static readonly HashSet<string> BridgeKeys = ["type", "bridge", "isGateway", "ipMasq", "hairpinMode", "ipam"];
    private static readonly HashSet<string> IpamKeys = ["type", "ranges", "routes"];

    public static NativeBridgeConfig? TryFrom(CniNetworkConfig network)
    {
        if (network.Name != DefaultNetwork.Name || network.Plugins.Skip(1).Any(p => CniNetworkConfig.TypeOf(p) != "portmap"))
        {
            return null;
        }
        var bridge = network.Plugins[0];
        if (CniNetworkConfig.TypeOf(bridge) != "bridge"
            || bridge.Any(p => !BridgeKeys.Contains(p.Key))
            || !Flag(bridge, "isGateway", true) || !Flag(bridge, "hairpinMode", true) || !Flag(bridge, "ipMasq", false)
            || bridge["bridge"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var bridgeName) || bridgeName.Length == 0
            || bridge["ipam"] is not JsonObject ipam || ipam.Any(p => !IpamKeys.Contains(p.Key))
            || (string?)ipam["type"] != "host-local"
            || ipam["ranges"] is not JsonArray { Count: > 0 } rangeSets)
        {
            return null;
        }
        var ranges = new List<HostLocalRange>();
        foreach (var set in rangeSets)
        {
            if (set is not JsonArray { Count: 1 } members || members[0] is not JsonObject { Count: 1 } range
                || range["subnet"] is not JsonValue subnet || !subnet.TryGetValue<string>(out var cidr)
                || !IPNetwork.TryParse(cidr, out var parsed) || parsed.PrefixLength > (parsed.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 30 : 126))
            {
                return null;
            }
            ranges.Add(new HostLocalRange(parsed));
        }
        var routes = new List<JsonObject>();
        foreach (var route in ipam["routes"] as JsonArray ?? [])
        {
            if (route is not JsonObject routeObject || routeObject.Any(p => p.Key is not ("dst" or "gw"))
                || routeObject["dst"] is not JsonValue dst || !dst.TryGetValue<string>(out var dstText) || !IPNetwork.TryParse(dstText, out _))
            {
                return null;
            }
            routes.Add(routeObject);
        }
        return new NativeBridgeConfig(network.Name, bridgeName, ranges, routes);
    }

    private static bool Flag(JsonObject plugin, string key, bool expected) =>
        plugin[key] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag == expected : !expected;
}
