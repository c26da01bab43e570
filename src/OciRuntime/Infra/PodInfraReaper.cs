using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Infra;

/// <summary>
/// `crioci-runtime pod-infra --detached`: PID 1 of a pod's shared PID namespace. It does
/// nothing but reap: every process of the pod whose parent dies is re-parented here, and
/// without a waitpid it would stay a zombie for the pod's life (Kubernetes' pause does the same).
/// </summary>
public static class PodInfraReaper
{
    public static int Run()
    {
        // Hold no directory of the daemon's busy: the pod may outlive any of them.
        Directory.SetCurrentDirectory("/");
        using var childExited = new AutoResetEvent(initialState: false);
        var stopRequested = 0;
        // The init of a PID namespace only receives the signals it has a handler for, even from
        // the host (SIGKILL aside): SIGTERM and SIGINT need handlers to stop it, and SIGCHLD one
        // to wake the reaper. Any other signal is ignored by the kernel, which is what PID 1 wants.
        PosixSignalRegistration Stop(PosixSignal signal) => PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            Volatile.Write(ref stopRequested, 1);
            childExited.Set();
        });
        using var term = Stop(PosixSignal.SIGTERM);
        using var interrupt = Stop(PosixSignal.SIGINT);
        using var child = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, context =>
        {
            context.Cancel = true;
            childExited.Set();
        });
        while (Volatile.Read(ref stopRequested) == 0)
        {
            ReapExited();
            // A child that exits between the reaping above and this wait has set the event
            // already, so no exit is missed; orphans arriving while alive cost nothing.
            childExited.WaitOne();
        }
        return 0;
    }

    /// <summary>Collects every exited child, without blocking.</summary>
    private static void ReapExited()
    {
        while (true)
        {
            var pid = LibC.waitpid(-1, out _, LibC.WNOHANG);
            if (pid > 0)
            {
                continue;
            }
            if (pid < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
                continue;
            }
            return; // 0: children remain, none exited; ECHILD: no children at all.
        }
    }
}
