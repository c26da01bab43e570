using System.Diagnostics;
using System.Diagnostics.Metrics;
using CriOci.Cri.V1;
using CriOci.Core.Telemetry;
using CriOci.PodSandbox;
using CriOci.PodSandbox.Telemetry;
using Grpc.Core;

namespace CriOci.CriServer;

/// <summary>
/// The daemon's instruments on the Meter named "CriOci" (DESIGN.md "Observability"), and the
/// one ActivitySource of that name (<see cref="CriOciDiagnostics"/>, shared with the libraries,
/// whose own instruments are in ImageStore's PullMetrics and PodSandbox's PodSandboxMetrics).
/// Every instrument is listed in README.md "Metrics".
/// Tags stay low-cardinality: the CRI service and method, a status code or a state, never a
/// pod, container or image ID (containerd internal/cri/server/metrics.go).
/// </summary>
internal sealed class CriMetrics : IDisposable
{
    public const string Name = CriOciDiagnostics.Name;
    public const string RequestDurationName = "crioci.cri.request.duration";
    public const string PodsName = "crioci.pods";
    public const string ContainersName = "crioci.containers";
    public const string ContainerStartDurationName = "crioci.container.start.duration";
    public const string MonitorsName = "crioci.monitors";
    public const string MonitorMemoryName = "crioci.monitor.memory.usage";

    private readonly Meter meter;
    private readonly Histogram<double> requestDuration;
    private readonly Histogram<double> containerStartDuration;
    private readonly ISandboxManager sandboxes;

    /// <param name="options">
    /// The daemon's directories, where the monitors' state files are; tests that fake the
    /// backends have none, and then no monitor gauges exist.
    /// </param>
    public CriMetrics(IMeterFactory meterFactory, ISandboxManager sandboxes, DaemonOptions? options = null)
    {
        this.sandboxes = sandboxes;
        meter = meterFactory.Create(Name);
        requestDuration = CriOciDiagnostics.CreateDurationHistogram(
            meter, RequestDurationName, "Duration of CRI calls by service, method and gRPC status code.");
        containerStartDuration = CriOciDiagnostics.CreateDurationHistogram(
            meter, ContainerStartDurationName, "Time StartContainer takes from the request to the container's process running.");
        meter.CreateObservableGauge(PodsName, ObservePods, unit: "{pod}", description: "Pod sandboxes on this node by state.");
        meter.CreateObservableGauge(ContainersName, ObserveContainers, unit: "{container}", description: "Containers on this node by state.");
        if (options is not null)
        {
            var runtimeStateRoot = new SandboxManagerOptions(options.RootDirectory, options.StateDirectory, options.RuntimeExecutable).RuntimeStateRoot;
            meter.CreateObservableGauge(MonitorsName,
                () => ByMonitorKind(MonitorUsage.Measure(runtimeStateRoot), usage => (usage.Count, usage.StandbyCount)),
                unit: "{process}", description: "Live monitor processes: one per container (monitor.kind=container), and the one kept for the next create (monitor.kind=standby).");
            meter.CreateObservableGauge(MonitorMemoryName,
                () => ByMonitorKind(MonitorUsage.Measure(runtimeStateRoot), usage => (usage.ResidentBytes, usage.StandbyResidentBytes)),
                unit: "By", description: "Resident memory of the monitor processes together, by monitor.kind.");
        }
    }

    /// <summary>Lives for the process: spans are cheap no-ops until a listener (OpenTelemetry) subscribes.</summary>
    public static ActivitySource ActivitySource => CriOciDiagnostics.ActivitySource;

    /// <summary>Tag names follow the OpenTelemetry RPC semantic conventions.</summary>
    public void RecordRequest(string service, string method, StatusCode statusCode, TimeSpan duration) =>
        requestDuration.Record(
            duration.TotalSeconds,
            new KeyValuePair<string, object?>("rpc.service", service),
            new KeyValuePair<string, object?>("rpc.method", method),
            new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)statusCode));

    public void RecordContainerStart(TimeSpan duration) => containerStartDuration.Record(duration.TotalSeconds);

    /// <summary>
    /// A container's monitor is the container's cost; the standby is the daemon's, ready whether
    /// or not a pod ever comes. Both kinds are always reported, zeros included.
    /// </summary>
    internal static Measurement<long>[] ByMonitorKind(MonitorUsage usage, Func<MonitorUsage, (long Container, long Standby)> select)
    {
        var (container, standby) = select(usage);
        return
        [
            new Measurement<long>(container, new KeyValuePair<string, object?>("monitor.kind", "container")),
            new Measurement<long>(standby, new KeyValuePair<string, object?>("monitor.kind", "standby")),
        ];
    }

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
