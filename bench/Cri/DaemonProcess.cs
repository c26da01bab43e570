using System.Diagnostics;

namespace CriOci.Bench.Cri;

/// <summary>
/// The daemon `--daemon` named, which may be a wrapper script that starts the real daemon as
/// its child (or grandchild) rather than exec'ing it. The real daemon is the process that
/// listens on the CRI socket: its memory is the one measured, and stopping the peer kills it
/// together with every wrapper above it. Its own children (monitors, containers) are left as
/// they are when the daemon itself is killed, in their own sessions, for the peer's clean-up.
/// </summary>
public sealed class DaemonProcess(Process started, string socketPath) : IDisposable
{
    private (int Pid, ulong StartTime)? _listener;

    /// <summary>The process we started: the daemon itself, or its wrapper.</summary>
    public Process Started { get; } = started;

    /// <summary>The socket's listener once found (<see cref="FindListener"/>), else the process we started.</summary>
    public int Pid => _listener?.Pid ?? Started.Id;

    /// <summary>Looks up the process listening on the socket; call once the socket answers.</summary>
    public void FindListener()
    {
        if (ProcessTable.UnixSocketListener(socketPath) is { } pid && ProcessTable.StartTime(pid) is { } startTime)
        {
            _listener = (pid, startTime);
        }
    }

    /// <summary>
    /// SIGKILL to the started process first (a wrapper that restarts its daemon must not see it
    /// die), then to every process between it and the listener, then to the listener; only then
    /// waits, since the started process counts as exited once its output pipes close, and the
    /// daemon, having inherited them, holds them open until it dies.
    /// </summary>
    public async Task KillAsync()
    {
        var chain = new List<(int Pid, ulong StartTime)>();
        if (_listener is { } listener && listener.Pid != Started.Id && ProcessTable.StartTime(listener.Pid) == listener.StartTime)
        {
            for (var pid = ProcessTable.ParentOf(listener.Pid); pid is > 1 && pid != Started.Id; pid = ProcessTable.ParentOf(pid.Value))
            {
                if (ProcessTable.StartTime(pid.Value) is { } startTime)
                {
                    chain.Insert(0, (pid.Value, startTime));
                }
            }
            chain.Add(listener);
        }
        if (!Started.HasExited)
        {
            Started.Kill();
        }
        foreach (var (pid, startTime) in chain)
        {
            // Only the process recorded: a PID reused meanwhile is someone else's.
            if (ProcessTable.StartTime(pid) == startTime)
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                    // Exited since we looked.
                }
            }
        }
        foreach (var (pid, startTime) in chain)
        {
            for (var attempt = 0; attempt < 1000 && ProcessTable.IsAlive(pid, startTime); attempt++)
            {
                await Task.Delay(10);
            }
            if (ProcessTable.IsAlive(pid, startTime))
            {
                throw new InvalidOperationException($"daemon process {pid} did not die after SIGKILL");
            }
        }
        await Started.WaitForExitAsync();
    }

    public void Dispose() => Started.Dispose();
}
