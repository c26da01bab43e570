using System.Diagnostics;
using System.Diagnostics.Metrics;
using CriOci.Cri.V1;
using CriOci.PodSandbox;
using Grpc.Core;

namespace CriOci.CriServer;

/// <summary>
/// The daemon's one Meter and one ActivitySource, both named "CriOci" (DESIGN.md
/// "Observability"); every instrument is declared here and listed in README.md "Metrics".
/// Tags stay low-cardinality: the CRI service and method, a status code or a state, never a
/// pod, container or image ID (containerd internal/cri/server/metrics.go).
/// </summary>
internal sealed class CriMetrics : IDisposable
{
    public const string Name = "CriOci";
    public const string RequestDurationName = "crioci.cri.request.duration";
    public const string PodsName = "crioci.pods";
    public const string ContainersName = "crioci.containers";
    public const string ContainerStartDurationName = "crioci.container.start.duration";

    /// <summary>
    /// Seconds, from a cached list call (1 ms) to an image pull or a slow stop (minutes).
    /// OpenTelemetry's default buckets (0 to 10000) are made for milliseconds.
    /// </summary>
    private static readonly IReadOnlyList<double> DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly Meter meter;
    private readonly Histogram<double> requestDuration;
    private readonly Histogram<double> containerStartDuration;
    private readonly ISandboxManager sandboxes;

    public CriMetrics(IMeterFactory meterFactory, ISandboxManager sandboxes)
    {
        this.sandboxes = sandboxes;
        meter = meterFactory.Create(Name);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        requestDuration = meter.CreateHistogram(
            RequestDurationName,
            unit: "s",
            description: "Duration of CRI calls by service, method and gRPC status code.",
            tags: null,
            advice: advice);
        containerStartDuration = meter.CreateHistogram(
            ContainerStartDurationName,
            unit: "s",
            description: "Time StartContainer takes from the request to the container's process running.",
            tags: null,
            advice: advice);
        meter.CreateObservableGauge(PodsName, ObservePods, unit: "{pod}", description: "Pod sandboxes on this node by state.");
        meter.CreateObservableGauge(ContainersName, ObserveContainers, unit: "{container}", description: "Containers on this node by state.");
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

    public void RecordContainerStart(TimeSpan duration) => containerStartDuration.Record(duration.TotalSeconds);

    /// <summary>Every state is reported, zeros included, so a dashboard sees "0 running" rather than no series.</summary>
    private IEnumerable<Measurement<long>> ObservePods()
    {
        var counts = new Dictionary<PodSandboxState, long> { [PodSandboxState.SandboxReady] = 0, [PodSandboxState.SandboxNotready] = 0 };
        foreach (var pod in sandboxes.ListPodSandbox(null))
        {
            counts[pod.State] = counts.GetValueOrDefault(pod.State) + 1;
        }
        return counts.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("state", PodStateName(pair.Key))));
    }

    private IEnumerable<Measurement<long>> ObserveContainers()
    {
        var counts = new Dictionary<ContainerState, long>
        {
            [ContainerState.ContainerCreated] = 0,
            [ContainerState.ContainerRunning] = 0,
            [ContainerState.ContainerExited] = 0,
            [ContainerState.ContainerUnknown] = 0,
        };
        foreach (var container in sandboxes.ListContainers(null))
        {
            counts[container.State] = counts.GetValueOrDefault(container.State) + 1;
        }
        return counts.Select(pair => new Measurement<long>(pair.Value, new KeyValuePair<string, object?>("state", ContainerStateName(pair.Key))));
    }

    internal static string PodStateName(PodSandboxState state) => state switch
    {
        PodSandboxState.SandboxReady => "ready",
        PodSandboxState.SandboxNotready => "notready",
        _ => "unknown",
    };

    internal static string ContainerStateName(ContainerState state) => state switch
    {
        ContainerState.ContainerCreated => "created",
        ContainerState.ContainerRunning => "running",
        ContainerState.ContainerExited => "exited",
        _ => "unknown",
    };

    public void Dispose() => meter.Dispose();
}
