using System.Globalization;
using System.Text.Json.Nodes;
using CriOci.Core;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The bandwidth capability (CONVENTIONS.md: ingressRate/egressRate in bits per second, bursts in
/// bits) from kubelet's pod annotations kubernetes.io/ingress-bandwidth and egress-bandwidth,
/// which are Kubernetes quantities ("10M", "1Gi"). The burst is unlimited, as in containerd.
/// </summary>
internal static class Bandwidth
{
    public const string IngressAnnotation = "kubernetes.io/ingress-bandwidth";
    public const string EgressAnnotation = "kubernetes.io/egress-bandwidth";

    private const long UnlimitedBurst = uint.MaxValue;

    private static readonly (string Suffix, long Factor)[] Suffixes =
    [
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("Pi", 1L << 50),
        ("k", 1_000L), ("M", 1_000_000L), ("G", 1_000_000_000L), ("T", 1_000_000_000_000L), ("P", 1_000_000_000_000_000L),
    ];

    public static JsonObject? FromAnnotations(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null)
        {
            return null;
        }
        var result = new JsonObject();
        if (annotations.TryGetValue(IngressAnnotation, out var ingress))
        {
            result["ingressRate"] = ParseQuantity(IngressAnnotation, ingress);
            result["ingressBurst"] = UnlimitedBurst;
        }
        if (annotations.TryGetValue(EgressAnnotation, out var egress))
        {
            result["egressRate"] = ParseQuantity(EgressAnnotation, egress);
            result["egressBurst"] = UnlimitedBurst;
        }
        return result.Count > 0 ? result : null;
    }

    /// <summary>A Kubernetes quantity in bits per second: a decimal number with an optional SI or binary suffix.</summary>
    public static long ParseQuantity(string annotation, string text)
    {
        var value = text.Trim();
        long factor = 1;
        foreach (var (suffix, suffixFactor) in Suffixes)
        {
            if (value.EndsWith(suffix, StringComparison.Ordinal))
            {
                value = value[..^suffix.Length];
                factor = suffixFactor;
                break;
            }
        }
        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new InvalidArgumentException($"annotation {annotation}: \"{text}\" is not a positive quantity such as 10M");
        }
        return (long)Math.Ceiling(number * factor);
    }
}
