using System.Diagnostics.Metrics;
using CriOci.Core.Telemetry;

namespace CriOci.ImageStore.Telemetry;

/// <summary>
/// The image store's instruments on the shared "CriOci" Meter (<see cref="CriOciDiagnostics"/>);
/// listed in README.md "Metrics". No attribute names an image: references are unbounded.
/// </summary>
internal static class PullMetrics
{
    public const string PullDurationName = "crioci.image.pull.duration";
    public const string PullBytesName = "crioci.image.pull.bytes";

    public static Histogram<double> PullDuration { get; } = CriOciDiagnostics.CreateDurationHistogram(
        CriOciDiagnostics.Meter, PullDurationName,
        "Duration of image pulls (and OCI layout imports) that went to the source, by result.");

    public static Counter<long> PullBytes { get; } = CriOciDiagnostics.Meter.CreateCounter<long>(
        PullBytesName, unit: "By",
        description: "Bytes of manifests, configs and layers downloaded and stored; content already in the store is not fetched and not counted.");

    public static void RecordStored(long bytes) => PullBytes.Add(bytes);
}
