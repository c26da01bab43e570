using System.Runtime.InteropServices;
using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Picks the manifest for one platform from an index, with the name normalisation and
/// variant fallbacks of containerd's platforms package (Normalize, Only): "aarch64" is
/// arm64, arm64 "v8" is arm64, 32-bit arm defaults to v7 and runs v6 and v5 too.
/// </summary>
internal static class PlatformSelector
{
    public static ImagePlatform Current { get; } = new("linux", OciArchitecture(RuntimeInformation.OSArchitecture));

    public static OciDescriptor Select(IReadOnlyList<OciDescriptor> manifests, ImagePlatform wanted, string reference)
    {
        var os = wanted.Os.ToLowerInvariant();
        var (architecture, variant) = Normalize(wanted.Architecture, wanted.Variant);
        var acceptedVariants = AcceptedVariants(architecture, variant);

        OciDescriptor? best = null;
        var bestRank = int.MaxValue;
        foreach (var candidate in manifests)
        {
            // A JSON null in "manifests" deserializes as a null entry: it names nothing to pull.
            if (candidate?.Platform is not { } platform
                || !string.Equals(platform.Os, os, StringComparison.OrdinalIgnoreCase)
                || candidate.Digest is null)
            {
                continue;
            }
            var (candidateArchitecture, candidateVariant) = Normalize(platform.Architecture ?? "", platform.Variant);
            if (candidateArchitecture != architecture)
            {
                continue;
            }
            var rank = acceptedVariants.IndexOf(candidateVariant);
            if (rank >= 0 && rank < bestRank)
            {
                best = candidate;
                bestRank = rank;
            }
        }
        if (best is not null)
        {
            return best;
        }
        var available = string.Join(", ", manifests
            .Where(m => m?.Platform is not null)
            .Select(m => Describe(m.Platform!.Os ?? "?", m.Platform.Architecture ?? "?", m.Platform.Variant)));
        throw new NotFoundException(
            $"{reference} has no manifest for platform {Describe(os, architecture, variant)} (it has: {(available.Length == 0 ? "none" : available)})");
    }

    public static string OciArchitecture(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.X86 => "386",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        _ => architecture.ToString().ToLowerInvariant(),
    };

    private static (string Architecture, string Variant) Normalize(string architecture, string? variant)
    {
        var arch = architecture.ToLowerInvariant();
        var v = (variant ?? "").ToLowerInvariant();
        switch (arch)
        {
            case "x86_64" or "x86-64" or "amd64":
                return ("amd64", v == "v1" ? "" : v);
            case "aarch64" or "arm64":
                return ("arm64", v is "8" or "v8" ? "" : v);
            case "armhf":
                return ("arm", "v7");
            case "armel":
                return ("arm", "v6");
            case "arm":
                return ("arm", v switch { "" or "7" => "v7", "5" or "6" or "8" => "v" + v, _ => v });
            case "i386":
                return ("386", v);
            default:
                return (arch, v);
        }
    }

    /// <summary>Variants that run here, best first.</summary>
    private static List<string> AcceptedVariants(string architecture, string variant)
    {
        if (architecture == "arm" && variant.Length == 2 && variant[0] == 'v' && char.IsAsciiDigit(variant[1]))
        {
            var version = variant[1] - '0';
            return [.. Enumerable.Range(5, Math.Max(0, version - 4)).Reverse().Select(n => $"v{n}")];
        }
        if (architecture == "amd64" && variant.Length == 2 && variant[0] == 'v' && char.IsAsciiDigit(variant[1]))
        {
            var level = variant[1] - '0';
            return [.. Enumerable.Range(2, Math.Max(0, level - 1)).Reverse().Select(n => $"v{n}"), ""];
        }
        return variant.Length == 0 ? [""] : [variant, ""];
    }

    private static string Describe(string os, string architecture, string? variant) =>
        string.IsNullOrEmpty(variant) ? $"{os}/{architecture}" : $"{os}/{architecture}/{variant}";
}
