using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>How many container monitors are alive and how much memory they hold, for the crioci.monitors gauges.</summary>
/// <param name="Count">Live monitor processes (one per container whose monitor has not exited).</param>
/// <param name="ResidentBytes">Their resident set sizes summed (/proc/PID/statm), shared pages counted in each.</param>
public sealed record MonitorUsage(long Count, long ResidentBytes)
{
    /// <summary>
    /// Reads every container's state.json under the runtime state root. A monitor is counted when
    /// its PID still names the process that started at the recorded time, so a reused PID is not.
    /// </summary>
    public static MonitorUsage Measure(string runtimeStateRoot)
    {
        if (!Directory.Exists(runtimeStateRoot))
        {
            return new MonitorUsage(0, 0);
        }
        long count = 0;
        long resident = 0;
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
            if (state is not { MonitorPid: > 0 } || !ProcStat.IsSameLiveProcess(state.MonitorPid, state.MonitorStartTime))
            {
                continue;
            }
            count++;
            resident += ResidentBytesOf(state.MonitorPid);
        }
        return new MonitorUsage(count, resident);
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
