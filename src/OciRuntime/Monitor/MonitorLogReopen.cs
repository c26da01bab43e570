using CriOci.Core;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// Asks a container's monitor to reopen its CRI log (after kubelet renamed the old file), for
/// every runtime whose containers our monitor watches: the embedded one and external binaries.
/// </summary>
internal static class MonitorLogReopen
{
    /// <summary>Signals the monitor and returns once the new file exists.</summary>
    /// <param name="stopped">The container has exited: its monitor is gone or about to be.</param>
    public static async Task RequestAsync(StateDirectory state, string id, Func<bool> stopped, string logPath, CancellationToken cancellationToken)
    {
        var file = state.ReadState() ?? throw new NotFoundException($"container {id} not found");
        if (file.MonitorPid == 0 || !ProcStat.IsSameLiveProcess(file.MonitorPid, file.MonitorStartTime) || stopped())
        {
            // api.proto: a runtime that cannot reopen must say so and create no new file.
            throw new FailedPreconditionException($"container {id} is not running; its log cannot be reopened");
        }
        Errno.Check(LibC.kill(file.MonitorPid, ContainerMonitor.ReopenLogSignal), "kill", $"monitor of {id}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!File.Exists(logPath))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new UnavailableException($"the monitor of container {id} did not reopen {logPath}");
            }
            await Task.Delay(2, cancellationToken).ConfigureAwait(false);
        }
    }
}
