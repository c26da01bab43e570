using System.Text.Json;
using System.Text.Json.Serialization;

namespace CriOci.CriServer;

/// <summary>
/// The --config JSON file: the same keys as the flags, every one optional. Unknown keys are
/// errors, so a typo ("sockte") stops the daemon instead of silently using a default.
/// </summary>
internal sealed record DaemonConfigFile(
    string? Socket = null,
    string? Root = null,
    string? State = null,
    string? Runtime = null,
    IReadOnlyList<string>? InsecureRegistries = null)
{
    /// <summary>Reads and validates <paramref name="path"/>; every failure names the file and the problem.</summary>
    public static DaemonConfigFile Load(string path)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DaemonConfigException($"config file {path}: {ex.Message}", ex);
        }
        DaemonConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize(content, CriJsonContext.Default.DaemonConfigFile);
        }
        catch (JsonException ex)
        {
            // JsonException names the JSON path and line, e.g. "'sockte' could not be mapped ... Path: $.sockte | LineNumber: 1".
            throw new DaemonConfigException($"config file {path}: {ex.Message}", ex);
        }
        if (config is null)
        {
            throw new DaemonConfigException($"config file {path}: expected a JSON object, found null");
        }
        if (config.InsecureRegistries?.Any(string.IsNullOrWhiteSpace) == true)
        {
            throw new DaemonConfigException($"config file {path}: insecureRegistries holds an empty entry");
        }
        return config;
    }
}

/// <summary>The daemon cannot start with the configuration it was given.</summary>
internal sealed class DaemonConfigException(string message, Exception? inner = null) : Exception(message, inner);
