using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>
/// How many monitors are alive and how much memory they hold, for the crioci.monitors gauges:
/// the containers' monitors, and apart from them the monitor the daemon keeps on standby for
/// the next create, which is the daemon's cost rather than a container's.
/// </summary>
/// <param name="Count">Live container monitor processes (one per container whose monitor has not exited).</param>
/// <param name="ResidentBytes">Their resident set sizes summed (/proc/PID/statm), shared pages counted in each.</param>
/// <param name="StandbyCount">Live monitors on standby (no container yet).</param>
/// <param name="StandbyResidentBytes">Their resident set sizes summed.</param>
public sealed record MonitorUsage(long Count, long ResidentBytes, long StandbyCount = 0, long StandbyResidentBytes = 0)
{
    /// <summary>The daemon's own runtimes' standby monitors (<see cref="ContainerRuntime.StandbyMonitorPids"/>) with the containers'.</summary>
    public static MonitorUsage Measure(string runtimeStateRoot) =>
        Measure(runtimeStateRoot, ContainerRuntime.StandbyMonitorPids(runtimeStateRoot));

    /// <summary>
    /// Reads every container's state.json under the runtime state root. A monitor is counted when
    /// its PID still names the process that started at the recorded time, so a reused PID is not.
    /// A standby PID that a container's state.json names already (it has just been given its
    /// container) counts as that container's.
    /// </summary>
    public static MonitorUsage Measure(string runtimeStateRoot, IReadOnlyList<int> standbyPids)
    {
        var containerMonitors = ContainerMonitorPids(runtimeStateRoot);
        long resident = 0;
        foreach (var pid in containerMonitors)
        {
            resident += ResidentBytesOf(pid);
        }
        long standbyCount = 0, standbyResident = 0;
        foreach (var pid in standbyPids.Distinct().Where(pid => !containerMonitors.Contains(pid)))
        {
            if (ResidentBytesOf(pid) is > 0 and var bytes)
            {
                standbyCount++;
                standbyResident += bytes;
            }
        }
        return new MonitorUsage(containerMonitors.Count, resident, standbyCount, standbyResident);
    }

    private static HashSet<int> ContainerMonitorPids(string runtimeStateRoot)
    {
        var pids = new HashSet<int>();
        if (!Directory.Exists(runtimeStateRoot))
        {
            return pids;
        }
        foreach (var directory in Directory.EnumerateDirectories(runtimeStateRoot))
        {
            ContainerStateFile? state;
            try
            {
                state = new StateDirectory(runtimeStateRoot, Path.GetFileName(directory)).ReadState();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                // Being written or removed right now; the next scrape sees it settled.
                continue;
            }
            if (state is { MonitorPid: > 0 } && ProcStat.IsSameLiveProcess(state.MonitorPid, state.MonitorStartTime))
            {
                pids.Add(state.MonitorPid);
            }
        }
        return pids;
    }

    /// <summary>statm's second field is the resident set in pages; 0 when the process is gone meanwhile.</summary>
    private static long ResidentBytesOf(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/statm").Split(' ');
            return fields.Length > 1 && long.TryParse(fields[1], out var pages) ? pages * Environment.SystemPageSize : 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
