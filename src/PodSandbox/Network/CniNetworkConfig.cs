using System.Text.Json;
using System.Text.Json.Nodes;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// A network configuration list (SPEC.md "Configuration format"): name, cniVersion and the chain
/// of plugin configurations. <see cref="Source"/> says where it came from, for messages.
/// </summary>
internal sealed class CniNetworkConfig
{
    private CniNetworkConfig(string name, string cniVersion, bool disableCheck, IReadOnlyList<JsonObject> plugins, string json, string source)
    {
        Name = name;
        CniVersion = cniVersion;
        DisableCheck = disableCheck;
        Plugins = plugins;
        Json = json;
        Source = source;
    }

    public string Name { get; }

    public string CniVersion { get; }

    public bool DisableCheck { get; }

    /// <summary>The plugin configurations in chain order; each has a "type".</summary>
    public IReadOnlyList<JsonObject> Plugins { get; }

    /// <summary>The whole list as JSON: what the per-pod cache keeps so DEL uses exactly the config ADD used.</summary>
    public string Json { get; }

    public string Source { get; }

    /// <summary>The versions this runtime speaks; results of each parse the same way (ips[] with CIDR addresses).</summary>
    public static readonly IReadOnlyList<string> SupportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    /// <summary>
    /// Parses a .conflist, or a single plugin .conf/.json wrapped into a list of one (as libcni's
    /// ConfListFromConf does). Throws <see cref="CniConfigException"/> naming the problem.
    /// </summary>
    public static CniNetworkConfig Parse(string json, string source, bool isList)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new CniConfigException($"{source}: not a JSON object");
        }
        catch (JsonException exception)
        {
            throw new CniConfigException($"{source}: invalid JSON: {exception.Message}", exception);
        }
        if (!isList)
        {
            if (root.ContainsKey("plugins"))
            {
                // A list saved under .conf: accept it as a list (the content decides, not the name).
                isList = true;
            }
            else
            {
                var single = (JsonObject)root.DeepClone();
                root = new JsonObject
                {
                    ["cniVersion"] = single["cniVersion"]?.DeepClone(),
                    ["name"] = single["name"]?.DeepClone(),
                    ["plugins"] = new JsonArray(single),
                };
            }
        }
        var name = StringOf(root, "name") ?? throw new CniConfigException($"{source}: no network name");
        var version = StringOf(root, "cniVersion") ?? throw new CniConfigException($"{source}: no cniVersion");
        if (!SupportedVersions.Contains(version))
        {
            throw new CniConfigException($"{source}: cniVersion {version} is not supported (supported: {string.Join(", ", SupportedVersions)})");
        }
        if (root["plugins"] is not JsonArray { Count: > 0 } array)
        {
            throw new CniConfigException($"{source}: no plugins");
        }
        var plugins = new List<JsonObject>();
        foreach (var (plugin, index) in array.Select((p, i) => (p, i)))
        {
            if (plugin is not JsonObject pluginObject || StringOf(pluginObject, "type") is not { Length: > 0 } type)
            {
                throw new CniConfigException($"{source}: plugins[{index}] has no type");
            }
            if (type.Contains('/', StringComparison.Ordinal) || type is "." or "..")
            {
                throw new CniConfigException($"{source}: plugins[{index}]: type {type} is not a plain binary name");
            }
            plugins.Add(pluginObject);
        }
        var disableCheck = root["disableCheck"] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;
        return new CniNetworkConfig(name, version, disableCheck, plugins, root.ToJsonString(), source);
    }

    public static string TypeOf(JsonObject plugin) => StringOf(plugin, "type")!;

    /// <summary>True when the plugin's "capabilities" declares <paramref name="capability"/> (SPEC.md "Deriving runtimeConfig").</summary>
    public static bool HasCapability(JsonObject plugin, string capability) =>
        plugin["capabilities"] is JsonObject capabilities
        && capabilities[capability] is JsonValue value && value.TryGetValue<bool>(out var enabled) && enabled;

    /// <summary>At or above 1.1.0 the STATUS verb exists.</summary>
    public bool SupportsStatus => CompareVersions(CniVersion, "1.1.0") >= 0;

    /// <summary>At or above 0.4.0 the CHECK verb exists.</summary>
    public bool SupportsCheck => CompareVersions(CniVersion, "0.4.0") >= 0;

    public static int CompareVersions(string left, string right)
    {
        var a = left.Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToArray();
        var b = right.Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToArray();
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var difference = (i < a.Length ? a[i] : 0).CompareTo(i < b.Length ? b[i] : 0);
            if (difference != 0)
            {
                return difference;
            }
        }
        return 0;
    }

    private static string? StringOf(JsonObject node, string key) =>
        node[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}

/// <summary>A CNI config file that cannot be used; the message names the file.</summary>
public sealed class CniConfigException(string message, Exception? inner = null) : Exception(message, inner);
