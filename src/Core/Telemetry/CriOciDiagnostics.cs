using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CriOci.Core.Telemetry;

/// <summary>
/// The one ActivitySource and the libraries' Meter, both named "CriOci" (DESIGN.md
/// "Observability"), in plain System.Diagnostics so ImageStore and PodSandbox report spans and
/// measurements without depending on OpenTelemetry: the daemon subscribes to the name
/// (AddSource/AddMeter), and with no subscriber every span start is a null check and every
/// Add/Record returns at once.
/// </summary>
/// <remarks>
/// The libraries' instruments live on this static Meter rather than behind an interface the
/// daemon implements: an instrument is already a no-op sink until someone listens, and a Meter
/// is identified by its name, so these instruments and the daemon's own (created through
/// IMeterFactory in CriServer's CriMetrics) export as one "CriOci" scope.
/// </remarks>
public static class CriOciDiagnostics
{
    public const string Name = "CriOci";

    public static ActivitySource ActivitySource { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    /// <summary>
    /// Seconds, from a cached list call (1 ms) to an image pull or a slow stop (minutes).
    /// OpenTelemetry's default buckets (0 to 10000) are made for milliseconds.
    /// </summary>
    public static IReadOnlyList<double> DurationBuckets { get; } =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    /// <summary>A duration histogram in seconds with <see cref="DurationBuckets"/>.</summary>
    public static Histogram<double> CreateDurationHistogram(Meter meter, string name, string description) =>
        meter.CreateHistogram(name, unit: "s", description: description, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>An internal span under the current one, or null (and nothing allocated) when nobody listens.</summary>
    public static Activity? StartSpan(string name) =>
        ActivitySource.HasListeners() ? ActivitySource.StartActivity(name, ActivityKind.Internal) : null;

    /// <summary>Marks the span failed with the exception's message, as OpenTelemetry's exception conventions ask.</summary>
    public static void RecordFailure(this Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", exception.GetType().Name);
    }
}
