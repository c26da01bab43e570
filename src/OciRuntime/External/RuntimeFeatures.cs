using System.Text.Json;

namespace CriOci.OciRuntime.External;

/// <summary>What a handler can do, as CRI's RuntimeHandlerFeatures asks (kubelet uses it to admit pods).</summary>
/// <param name="RecursiveReadOnlyMounts">Mounts with the "rro" option are made read-only recursively (mount_setattr).</param>
/// <param name="UserNamespaces">Pods with hostUsers: false can run: a user namespace plus idmapped mounts.</param>
public sealed record RuntimeFeatures(bool RecursiveReadOnlyMounts, bool UserNamespaces)
{
    public static readonly RuntimeFeatures None = new(false, false);

    /// <summary>
    /// Asks `binary features` (the OCI features document, runc 1.1+). A binary without that
    /// verb (crun 1.8) or whose answer does not parse is reported as supporting neither: we
    /// cannot know, and kubelet must not send it pods that need them.
    /// </summary>
    public static RuntimeFeatures Probe(ExternalBinary binary)
    {
        ExternalOutcome outcome;
        try
        {
            outcome = ExternalCommand.Run(binary.Command("features"), timeout: TimeSpan.FromSeconds(10));
        }
        catch (Linux.SyscallException)
        {
            return None;
        }
        return outcome.Succeeded ? Parse(outcome.Stdout) : None;
    }

    /// <summary>
    /// "rro" among mountOptions; "user" among linux.namespaces together with
    /// linux.mountExtensions.idmap.enabled (runc 1.1 lists user namespaces but cannot idmap
    /// mounts, and Kubernetes' user namespaces need both).
    /// </summary>
    public static RuntimeFeatures Parse(string featuresJson)
    {
        try
        {
            using var document = JsonDocument.Parse(featuresJson);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return None;
            }
            var rro = root.TryGetProperty("mountOptions", out var options) && options.ValueKind == JsonValueKind.Array
                && options.EnumerateArray().Any(option => option.ValueKind == JsonValueKind.String && option.GetString() == "rro");
            var linux = root.TryGetProperty("linux", out var l) && l.ValueKind == JsonValueKind.Object ? l : default;
            var userNamespace = linux.ValueKind == JsonValueKind.Object && linux.TryGetProperty("namespaces", out var namespaces)
                && namespaces.ValueKind == JsonValueKind.Array
                && namespaces.EnumerateArray().Any(ns => ns.ValueKind == JsonValueKind.String && ns.GetString() == "user");
            var idmap = linux.ValueKind == JsonValueKind.Object && linux.TryGetProperty("mountExtensions", out var extensions)
                && extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("idmap", out var idmapObject)
                && idmapObject.ValueKind == JsonValueKind.Object && idmapObject.TryGetProperty("enabled", out var enabled)
                && enabled.ValueKind == JsonValueKind.True;
            return new RuntimeFeatures(rro, userNamespace && idmap);
        }
        catch (JsonException)
        {
            return None;
        }
    }
}
