using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;
using CriOci.PodSandbox.Telemetry;

namespace CriOci.PodSandbox.Tests.Telemetry;

/// <summary>
/// Container monitors are found through their state.json, standby monitors through the PIDs the
/// runtime gives; this test process stands in for a live monitor of either kind.
/// </summary>
public sealed class MonitorUsageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crioci-monitor-usage-").FullName;
    private readonly int _self = Environment.ProcessId;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Measure_LiveStandbyAndNoContainer_CountsTheStandbyApart()
    {
        var usage = MonitorUsage.Measure(_root, [_self]);

        Assert.Equal((0, 0, 1), (usage.Count, usage.ResidentBytes, usage.StandbyCount));
        Assert.True(usage.StandbyResidentBytes > 0);
    }

    [Fact]
    public void Measure_ContainerMonitor_CountedAsTheContainersOnly()
    {
        WriteState("c1", monitorPid: _self, ProcStat.StartTime(_self)!.Value);

        var usage = MonitorUsage.Measure(_root, []);

        Assert.Equal((1, 0L), (usage.Count, usage.StandbyCount));
        Assert.True(usage.ResidentBytes > 0);
        Assert.Equal(0, usage.StandbyResidentBytes);
    }

    [Fact]
    public void Measure_StandbyThatJustGotItsContainer_CountedOnce()
    {
        WriteState("c1", monitorPid: _self, ProcStat.StartTime(_self)!.Value);

        var usage = MonitorUsage.Measure(_root, [_self]);

        Assert.Equal((1, 0L), (usage.Count, usage.StandbyCount));
    }

    [Fact]
    public void Measure_GoneProcesses_CountNothing()
    {
        var gone = GonePid();
        WriteState("c1", monitorPid: gone, startTime: 1);
        WriteState("c2", monitorPid: _self, startTime: ProcStat.StartTime(_self)!.Value + 1);

        var usage = MonitorUsage.Measure(_root, [gone]);

        Assert.Equal(new MonitorUsage(0, 0, 0, 0), usage);
    }

    private void WriteState(string id, int monitorPid, ulong startTime)
    {
        var directory = new StateDirectory(_root, id);
        Directory.CreateDirectory(directory.Path);
        directory.WriteState(new ContainerStateFile(id, "/bundle", 1, 0, DateTimeOffset.UtcNow, null, monitorPid, startTime));
    }

    /// <summary>The PID of a process that has exited and been reaped.</summary>
    private static int GonePid()
    {
        using var process = System.Diagnostics.Process.Start("/bin/true")!;
        process.WaitForExit();
        return process.Id;
    }
}
