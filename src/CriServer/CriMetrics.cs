using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;

namespace CriOci.CriServer;

/// <summary>
/// The daemon's one Meter and one ActivitySource, both named "CriOci" (DESIGN.md
/// "Observability"); every instrument is declared here. Tags stay low-cardinality: the CRI
/// service and method and the status code, never a pod, container or image ID
/// (containerd internal/cri/server/metrics.go).
/// </summary>
internal sealed class CriMetrics : IDisposable
{
    public const string Name = "CriOci";
    public const string RequestDurationName = "crioci.cri.request.duration";

    private readonly Meter meter;
    private readonly Histogram<double> requestDuration;

    public CriMetrics(IMeterFactory meterFactory)
    {
        meter = meterFactory.Create(Name);
        requestDuration = meter.CreateHistogram<double>(
            RequestDurationName,
            unit: "s",
            description: "Duration of CRI calls by service, method and gRPC status code.");
    }

    /// <summary>Lives for the process: spans are cheap no-ops until a listener (OpenTelemetry) subscribes.</summary>
    public static ActivitySource ActivitySource { get; } = new(Name);

    /// <summary>Tag names follow the OpenTelemetry RPC semantic conventions.</summary>
    public void RecordRequest(string service, string method, StatusCode statusCode, TimeSpan duration) =>
        requestDuration.Record(
            duration.TotalSeconds,
            new KeyValuePair<string, object?>("rpc.service", service),
            new KeyValuePair<string, object?>("rpc.method", method),
            new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)statusCode));

    public void Dispose() => meter.Dispose();
}
