using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// Reads the pod's addresses from an ADD result. From 0.3.0 to 1.1.0 the shape is the same for
/// what we need (SPEC.md "Success"): "interfaces" and "ips", each ip with an "address" in CIDR
/// form and an optional "interface" index; 0.3.x/0.4.0 add a "version" field we do not need.
/// </summary>
internal static class CniResult
{
    /// <summary>
    /// The addresses on the pod's interface (<paramref name="interfaceName"/> inside the sandbox), or
    /// every address when the result does not say which interface one is on; IPv4 first, as
    /// PodSandboxStatus.network.ip prefers.
    /// </summary>
    public static IReadOnlyList<string> PodIps(string resultJson, string interfaceName)
    {
        JsonObject result;
        try
        {
            result = JsonNode.Parse(resultJson) as JsonObject ?? throw new CniConfigException("CNI result is not a JSON object");
        }
        catch (JsonException exception)
        {
            throw new CniConfigException($"CNI result is not JSON: {exception.Message}", exception);
        }
        var interfaces = result["interfaces"] as JsonArray ?? [];
        var all = new List<IPAddress>();
        var onPodInterface = new List<IPAddress>();
        foreach (var ip in result["ips"] as JsonArray ?? [])
        {
            // "10.87.0.5/16": an address with its prefix length.
            if (ip?["address"] is not JsonValue value || !value.TryGetValue<string>(out var cidr)
                || !IPAddress.TryParse(cidr.Split('/')[0], out var address))
            {
                continue;
            }
            all.Add(address);
            if (ip["interface"] is JsonValue index && index.TryGetValue<int>(out var i) && i >= 0 && i < interfaces.Count
                && interfaces[i]?["name"]?.GetValue<string>() == interfaceName
                && interfaces[i]?["sandbox"]?.GetValue<string>() is { Length: > 0 })
            {
                onPodInterface.Add(address);
            }
        }
        var chosen = onPodInterface.Count > 0 ? onPodInterface : all;
        return chosen
            .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .Select(a => a.ToString())
            .Distinct()
            .ToList();
    }
}
