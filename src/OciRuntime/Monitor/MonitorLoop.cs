using System.Globalization;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// crioci-monitor's whole life, on one thread: copies the container's output into the CRI log
/// and to attach clients, passes their input on, reopens the log on SIGHUP, reaps the init and
/// whatever it leaves, and records the exit in exit.json. Every wait is the one epoll_wait of
/// its <see cref="EventLoop"/>; SIGCHLD and SIGHUP arrive on a signalfd.
/// </summary>
internal sealed unsafe class MonitorLoop
{
    /// <summary>Output still in the pipes belongs before the exit record, but processes that outlived the init must not hold us for ever.</summary>
    private const int OutputDrainMilliseconds = 2000;

    /// <summary>How long attach clients together get to take the last output and the exit code.</summary>
    private const int ClientDrainMilliseconds = 1000;

    private readonly MonitorSession _session;
    private readonly EventLoop _loop = new();
    private readonly CriLogWriter? _log;
    private readonly ContainerInput _input;
    private readonly AttachServer _attach;
    private readonly List<OutputPump> _pumps = [];
    private readonly int _signals;
    private (int ExitCode, int Signal)? _exit;

    private MonitorLoop(MonitorSession session, int signals)
    {
        _session = session;
        _signals = signals;
        _loop.Add(signals, LibC.EPOLLIN, _ => TakeSignals());
        _log = session.LogFd >= 0 ? new CriLogWriter(session.LogFd) : null;
        _input = new ContainerInput(session.InputFd, session.Terminal, session.Stdin);
        _attach = new AttachServer(_loop, session.AttachFd, _input, session.StdinOnce);
        // Not zeroed: a page of it becomes resident only when output first reaches it, and
        // most containers' reads fill a few hundred bytes of the 32 KB.
        var buffer = GC.AllocateUninitializedArray<byte>(32 * 1024);
        // A terminal's output is logged as stdout, as CRI-O and containerd do.
        _pumps.Add(new OutputPump(_loop, session.StdoutFd, _log is null ? null : new CriLogStream(_log, "stdout"), _attach, AttachFrameKind.Stdout, buffer));
        if (session.StderrFd >= 0)
        {
            _pumps.Add(new OutputPump(_loop, session.StderrFd, _log is null ? null : new CriLogStream(_log, "stderr"), _attach, AttachFrameKind.Stderr, buffer));
        }
    }

    /// <summary>
    /// The signals the monitor takes on its signalfd, blocked by `crioci-runtime monitor` before
    /// it execs crioci-monitor (a blocked signal stays pending across execve, none is lost).
    /// </summary>
    public static void BlockSignals()
    {
        var set = stackalloc byte[LibC.SignalSetBytes];
        new Span<byte>(set, LibC.SignalSetBytes).Clear();
        LibC.SignalSetAdd(set, LibC.SIGCHLD);
        LibC.SignalSetAdd(set, ContainerMonitor.ReopenLogSignal);
        Errno.Check(LibC.sigprocmask(LibC.SIG_BLOCK, set, null), "sigprocmask");
    }

    /// <summary>Runs <paramref name="session"/> to the container's end; the process's exit code.</summary>
    public static int Run(MonitorSession session)
    {
        MonitorLoop monitor;
        try
        {
            // Processes the container leaves behind are re-parented here rather than to the
            // system's init, so the monitor reaps them.
            LibC.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            // A client or container that went away is an EPIPE to handle, not a signal that ends the monitor.
            LibC.signal(LibC.SIGPIPE, LibC.SIG_IGN);
            BlockSignals();
            // crioci-runtime monitor ignored SIGHUP until the exec (ignoring survives it); blocked,
            // it now waits on the signalfd instead.
            LibC.signal(ContainerMonitor.ReopenLogSignal, LibC.SIG_DFL);
            var set = stackalloc byte[LibC.SignalSetBytes];
            new Span<byte>(set, LibC.SignalSetBytes).Clear();
            LibC.SignalSetAdd(set, LibC.SIGCHLD);
            LibC.SignalSetAdd(set, ContainerMonitor.ReopenLogSignal);
            var signals = Errno.Check(LibC.signalfd(-1, set, LibC.SFD_NONBLOCK | LibC.SFD_CLOEXEC), "signalfd");
            monitor = new MonitorLoop(session, signals);
        }
        catch (SyscallException exception)
        {
            if (session.SyncFd >= 0)
            {
                SyncPipe.Send(session.SyncFd, SyncPipe.Error, $"failed monitor: {exception.Message}");
            }
            LibC.kill(session.InitPid, Signals.SIGKILL);
            LibC.waitpid(session.InitPid, out _, 0);
            return 1;
        }
        if (session.SyncFd >= 0)
        {
            SyncPipe.Send(session.SyncFd, SyncPipe.Ready, session.InitPid.ToString(CultureInfo.InvariantCulture));
            LibC.close(session.SyncFd);
        }
        return monitor.Watch();
    }

    private int Watch()
    {
        // kubelet may have rotated the log between the ready report and the exec, when a SIGHUP
        // was ignored: reopening the same path is harmless, missing a rotation is not.
        ReopenLog();
        // The init may have exited before the signalfd existed; its SIGCHLD may have gone to a
        // thread of `crioci-runtime monitor` that did not block it. Its zombie is still here.
        Reap();
        // Start-up is over: from here on the monitor needs only the code it is about to run.
        StartupPages.Release();
        while (_exit is null)
        {
            _loop.RunOnce(-1);
        }
        var (exitCode, signal) = _exit.Value;
        _session.Cgroup.KillProcesses();
        RunWhile(() => _pumps.Exists(pump => pump.Open), OutputDrainMilliseconds);
        foreach (var pump in _pumps)
        {
            pump.Close();
        }
        // Attach clients hear of the exit first: once exit.json exists the container may be
        // deleted at once, and the monitor must be done with it by then.
        _attach.Complete(exitCode);
        RunWhile(() => !_attach.Finished, ClientDrainMilliseconds);
        _attach.CloseAll();
        _input.Dispose();
        ExitRecord.Write(Path.Combine(_session.StateDirectory, "exit.json"), exitCode, signal, Rfc3339Timestamp.UtcNow(), oomKilled: _session.Cgroup.WasOomKilled());
        _log?.Dispose();
        return 0;
    }

    private void RunWhile(Func<bool> condition, int milliseconds)
    {
        var deadline = Environment.TickCount64 + milliseconds;
        while (condition())
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return;
            }
            _loop.RunOnce((int)left);
        }
    }

    private void TakeSignals()
    {
        var info = stackalloc byte[LibC.SignalfdInfoBytes];
        while (LibC.read(_signals, info, LibC.SignalfdInfoBytes) == LibC.SignalfdInfoBytes)
        {
            var signal = *(int*)info;
            if (signal == ContainerMonitor.ReopenLogSignal)
            {
                ReopenLog();
            }
        }
        Reap();
    }

    /// <summary>
    /// kubelet rotates by renaming the file and calling ReopenContainerLog; records written in
    /// between land in the renamed file, none are lost.
    /// </summary>
    private void ReopenLog()
    {
        if (_log is null || _session.LogPath is null)
        {
            return;
        }
        try
        {
            _log.Reopen(_session.LogPath);
        }
        catch (SyscallException)
        {
            // The directory is gone (the pod is being removed): keep the old file.
        }
    }

    /// <summary>Reaps every exited child; the init's status ends the watch.</summary>
    private void Reap()
    {
        while (true)
        {
            var pid = LibC.waitpid(-1, out var status, LibC.WNOHANG);
            if (pid > 0)
            {
                if (pid == _session.InitPid)
                {
                    var exitCode = LibC.ExitCodeFromWaitStatus(status, out var signal);
                    _exit = (exitCode, signal);
                }
                continue;
            }
            if (pid < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                // ECHILD: the init is gone without us seeing it; report the conventional unknown code.
                _exit ??= (255, 0);
            }
            return;
        }
    }
}
