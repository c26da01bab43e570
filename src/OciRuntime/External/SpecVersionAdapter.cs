using System.Globalization;
using System.Text.Json.Nodes;

namespace CriOci.OciRuntime.External;

/// <summary>
/// Older binaries check the bundle's ociVersion against the spec they were built for: crun 1.8
/// refuses anything but 1.0.x ("unknown version specified"), while our specs say 1.2.0. The
/// binary says which spec it implements in `--version` ("spec: 1.0.0"); a bundle for it is
/// labelled with that version instead. Nothing else changes: fields of later spec versions are
/// ones such a binary does not know and ignores either way, as with containerd's specs.
/// </summary>
public sealed class SpecVersionAdapter(ExternalBinary binary)
{
    private readonly Lazy<string?> _binarySpec = new(() => ParseSpecVersion(ExternalCommand.Run([binary.Path, "--version"], timeout: TimeSpan.FromSeconds(10)).Stdout));

    /// <summary>Relabels <paramref name="bundle"/>/config.json when its ociVersion is newer than the binary's spec.</summary>
    public void Adapt(string bundle)
    {
        if (_binarySpec.Value is not { } binarySpec || MajorMinor(binarySpec) is not { } supported)
        {
            return;
        }
        var path = Path.Combine(bundle, "config.json");
        var spec = JsonNode.Parse(File.ReadAllBytes(path))?.AsObject();
        if (spec?["ociVersion"]?.GetValue<string>() is not { } written || MajorMinor(written) is not { } wanted || wanted.CompareTo(supported) <= 0)
        {
            return;
        }
        spec["ociVersion"] = binarySpec;
        Core.AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(spec.ToJsonString()));
    }

    /// <summary>The "spec: X" line of `runc --version` / `crun --version`; null when there is none.</summary>
    public static string? ParseSpecVersion(string versionOutput) =>
        versionOutput.Split('\n').Select(line => line.Trim())
            .FirstOrDefault(line => line.StartsWith("spec:", StringComparison.Ordinal))?["spec:".Length..].Trim() is { Length: > 0 } version
            ? version
            : null;

    /// <summary>(major, minor) of "1.0.2-dev"; null when it does not start that way.</summary>
    public static (int Major, int Minor)? MajorMinor(string version)
    {
        var parts = version.Split('.', 3);
        return parts.Length >= 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(new string([.. parts[1].TakeWhile(char.IsAsciiDigit)]), NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            ? (major, minor)
            : null;
    }
}
