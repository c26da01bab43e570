using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// Reaps the container monitors this process started. A monitor is spawned straight into its own
/// session (no intermediate process that exits to hand it to the system's init: that stage cost
/// a third NativeAOT start, 10-20 ms, on every container create), so while the daemon lives the
/// monitor is its child and would stay a zombie after it exits. If the daemon dies first, the
/// kernel re-parents its monitors to the nearest subreaper or init, as before; a new daemon does
/// not own them and never needs to reap them.
/// <para>
/// Only the PIDs given to <see cref="Adopt"/> are waited for, each with its own waitpid(pid,
/// WNOHANG), on every SIGCHLD: a waitpid(-1) would steal the exit status of children that other
/// code waits for (CNI plugins started through System.Diagnostics.Process, exec helpers).
/// Signals coalesce, so every SIGCHLD sweeps all adopted PIDs.
/// </para>
/// </summary>
public static class MonitorReaper
{
    private static readonly ConcurrentDictionary<int, byte> Monitors = new();
    private static readonly Lock RegistrationLock = new();
    private static PosixSignalRegistration? _registration;

    /// <summary>Takes <paramref name="pid"/>, a child of this process, to be reaped once it exits (even if it already has).</summary>
    public static void Adopt(int pid)
    {
        EnsureRegistered();
        Monitors.TryAdd(pid, 0);
        // It may have exited before it was in the set: its SIGCHLD found nothing to reap.
        ReapExited();
    }

    /// <summary>How many adopted monitors have not been reaped yet.</summary>
    internal static int Pending => Monitors.Count;

    private static void EnsureRegistered()
    {
        lock (RegistrationLock)
        {
            // SIGCHLD's default action is to ignore it; the handler only adds the sweep.
            _registration ??= PosixSignalRegistration.Create(PosixSignal.SIGCHLD, static _ => ReapExited());
        }
    }

    private static void ReapExited()
    {
        foreach (var pid in Monitors.Keys)
        {
            var result = LibC.waitpid(pid, out _, LibC.WNOHANG);
            // > 0: reaped now; ECHILD: reaped by someone else or never ours; 0: still running.
            if (result > 0 || result < 0 && Marshal.GetLastPInvokeError() == Errno.ECHILD)
            {
                Monitors.TryRemove(pid, out _);
            }
        }
    }
}
