using System.Diagnostics.Metrics;
using CriOci.Core.Telemetry;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>
/// The sandbox manager's instruments on the shared "CriOci" Meter (<see cref="CriOciDiagnostics"/>);
/// listed in README.md "Metrics". Attributes stay low-cardinality: a plugin type, a CNI
/// command, an outcome, never a pod or container ID.
/// </summary>
internal static class PodSandboxMetrics
{
    public const string CniPluginDurationName = "crioci.cni.plugin.duration";
    public const string OomKillsName = "crioci.container.oom_kills";
    public const string ExecSessionsName = "crioci.exec.sessions";

    public static Histogram<double> CniPluginDuration { get; } = CriOciDiagnostics.CreateDurationHistogram(
        CriOciDiagnostics.Meter, CniPluginDurationName,
        "Duration of one CNI plugin invocation by plugin type, CNI command and result.");

    public static Counter<long> OomKills { get; } = CriOciDiagnostics.Meter.CreateCounter<long>(
        OomKillsName, unit: "{kill}", description: "Containers whose exit was caused by the kernel's OOM killer.");

    public static Counter<long> ExecSessions { get; } = CriOciDiagnostics.Meter.CreateCounter<long>(
        ExecSessionsName, unit: "{session}", description: "Processes started in containers by ExecSync (kind sync) and Exec (kind interactive).");

    public static void RecordExec(string kind) =>
        ExecSessions.Add(1, new KeyValuePair<string, object?>("exec.kind", kind));

    /// <summary>Called once per container exit (when its stop is announced).</summary>
    public static void RecordExit(OciRuntime.State.ContainerExitFile exit)
    {
        if (exit.OomKilled)
        {
            OomKills.Add(1);
        }
    }
}
