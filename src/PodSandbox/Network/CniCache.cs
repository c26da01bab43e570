using System.Text.Json;
using System.Text.Json.Serialization;
using CriOci.Core;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// What DEL needs, written before ADD runs and completed with the ADD result (libcni keeps the
/// same in /var/lib/cni/results): the exact network list, runtime config and arguments ADD was
/// given. With it DEL works after a daemon restart, after a reboot, after a half-failed ADD, and
/// after the admin changed the config directory.
/// </summary>
/// <param name="Network">The conflist JSON as ADD ran it.</param>
/// <param name="RuntimeConfig">The runtimeConfig object (all capabilities) as JSON.</param>
/// <param name="Result">The final ADD result as JSON; null when ADD did not finish.</param>
/// <param name="NativeBridge">
/// True when the daemon did the bridge step itself (<see cref="Network.NativeBridge"/>), so DEL does
/// it itself too; absent for pods attached through the plugins, which DEL runs as before. The
/// network JSON stays the plugins' own, so a downgraded daemon still detaches such a pod with them.
/// </param>
internal sealed record CniCacheEntry(
    int Version,
    string PodSandboxId,
    string InterfaceName,
    string NetworkNamespace,
    string CniArgs,
    string Network,
    string RuntimeConfig,
    string? Result,
    bool? NativeBridge = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(CniCacheEntry))]
internal sealed partial class CniJsonContext : JsonSerializerContext;

internal static class CniCache
{
    public const string FileName = "cni-cache.json";

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>The entry before ADD runs: durable, so DEL can find the attachment even after a power loss.</summary>
    public static void Write(string directory, CniCacheEntry entry)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(PathIn(directory), JsonSerializer.SerializeToUtf8Bytes(entry, CniJsonContext.Default.CniCacheEntry));
    }

    /// <summary>
    /// The entry completed with ADD's result: atomic but not synced (two fsyncs less per pod). A
    /// power loss can only take the result, never the entry written before ADD; the netns is gone
    /// after a reboot anyway, and DEL then runs without prevResult as it would for a half-done ADD
    /// (libcni does not sync its result cache either).
    /// </summary>
    public static void WriteResult(string directory, CniCacheEntry entry) =>
        AtomicFile.ReplaceVolatile(PathIn(directory), JsonSerializer.SerializeToUtf8Bytes(entry, CniJsonContext.Default.CniCacheEntry));

    /// <summary>The cached entry, or null when there is none (never attached, or DEL done).</summary>
    public static CniCacheEntry? Read(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), CniJsonContext.Default.CniCacheEntry);
        }
        catch (JsonException exception)
        {
            throw new UnavailableException($"CNI cache {path} is unreadable: {exception.Message}", exception);
        }
    }

    public static void Delete(string directory) => File.Delete(PathIn(directory));
}
