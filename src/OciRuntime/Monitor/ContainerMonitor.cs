using System.Globalization;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Monitor;

/// <summary>What a monitor is started with.</summary>
/// <param name="Stdin">Give the container a stdin pipe that attach clients write to (else /dev/null).</param>
/// <param name="StdinOnce">Close that stdin when the first client that wrote to it detaches.</param>
/// <param name="External">Create the container with this runc-compatible binary instead of the embedded runtime (a RuntimeClass handler).</param>
public sealed record MonitorArguments(string StateRoot, string Id, string Bundle, string? LogPath, int SyncFd, bool Stdin = false, bool StdinOnce = false,
    External.ExternalBinary? External = null);

/// <summary>
/// `crioci-runtime monitor`: the long-lived parent of one container. It creates the container and
/// then becomes crioci-monitor (<see cref="MonitorLoop"/>), which copies the container's stdout
/// and stderr (or its terminal) into the CRI log and to attach clients, passes their input on,
/// reaps the init and records its exit in exit.json. It runs in its own session, detached from
/// the daemon, so the daemon can be restarted or killed without the container noticing.
/// </summary>
public static class ContainerMonitor
{
    /// <summary>SIGHUP, the conventional "reopen your log files": the monitor has no terminal to lose.</summary>
    public const int ReopenLogSignal = 1;

    /// <summary>
    /// `monitor` without --detached, for a caller that will not reap the monitor: start the real
    /// monitor in a new session and exit at once, so the monitor is re-parented to the system's
    /// init. The daemon does not use it: it spawns `monitor --detached` in its own session and
    /// reaps it (<see cref="Launch.MonitorReaper"/>), one NativeAOT start less per container.
    /// </summary>
    public static int Detach(MonitorArguments arguments, string runtimeExecutable)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        try
        {
            var args = new List<string>
            {
                runtimeExecutable, "monitor", "--detached",
                "--root", arguments.StateRoot, "--id", arguments.Id, "--bundle", arguments.Bundle,
                "--sync-fd", "3",
            };
            if (arguments.LogPath is not null)
            {
                args.AddRange(["--log", arguments.LogPath]);
            }
            if (arguments.Stdin)
            {
                args.Add("--stdin");
            }
            if (arguments.StdinOnce)
            {
                args.Add("--stdin-once");
            }
            if (arguments.External is { } external)
            {
                args.AddRange(external.ToMonitorArguments());
            }
            ProcessSpawner.Spawn(new SpawnRequest(runtimeExecutable, args, ["PATH=" + Spec.SpecDefaults.DefaultPath],
                [devNull, devNull, devNull, arguments.SyncFd], NewSession: true));
            return 0;
        }
        catch (SyscallException exception)
        {
            SyncPipe.Send(arguments.SyncFd, SyncPipe.Error, $"start monitor: {exception.Message}");
            return 1;
        }
        finally
        {
            LibC.close(devNull);
        }
    }

    /// <summary>The lean executable the monitor becomes once the container exists; it ships next to crioci-runtime.</summary>
    public const string MonitorExecutableName = "crioci-monitor";

    /// <summary>
    /// Creates the container, then execs <see cref="MonitorExecutableName"/> in place (same PID,
    /// still the init's parent and subreaper) to watch it: all the code and memory it took to
    /// create the container is dropped, and the watching process holds only what watching needs
    /// (see <see cref="MonitorLoop"/>). The ready report goes out just before the exec, so a
    /// create waits for neither the exec nor crioci-monitor's start.
    /// </summary>
    public static int Run(MonitorArguments arguments, string runtimeExecutable)
    {
        SyncPipe.SetCloseOnExec(arguments.SyncFd);
        var syncFd = arguments.SyncFd;
        // Processes the container leaves behind are re-parented here rather than to the
        // system's init, so the monitor reaps them (the attribute survives execve).
        LibC.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        var leanMonitor = Path.Combine(Path.GetDirectoryName(runtimeExecutable) ?? "/", MonitorExecutableName);

        var logFd = -1;
        MonitorStdio? stdio = null;
        MonitorSession session;
        try
        {
            if (!File.Exists(leanMonitor))
            {
                throw new Core.UnavailableException($"{leanMonitor} is missing: it must be installed next to {runtimeExecutable}");
            }
            var spec = ContainerLauncher.LoadSpec(Path.GetFullPath(arguments.Bundle));
            var terminal = spec.Process?.Terminal == true;
            var ownPidNamespace = spec.Linux?.Namespaces?.Any(n => n?.Type == "pid" && string.IsNullOrEmpty(n.Path)) == true;
            stdio = MonitorStdio.Open(terminal, arguments.Stdin);
            if (arguments.LogPath is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(arguments.LogPath)!);
                logFd = CriLogWriter.OpenFile(arguments.LogPath);
            }
            var stateDirectory = new StateDirectory(arguments.StateRoot, arguments.Id);
            var state = arguments.External is { } external
                ? External.ExternalCreate.Create(external, arguments.StateRoot, arguments.Id, arguments.Bundle, spec, stdio.ForInit)
                : ContainerLauncher.Create(arguments.StateRoot, arguments.Id, arguments.Bundle, spec, stdio.ForInit, runtimeExecutable, monitored: true);
            try
            {
                var inputFd = stdio.TakeOver();
                var attachFd = AttachServer.Listen(stateDirectory.AttachSocketPath);
                var cgroup = ContainerCgroupFiles.Find(state.CgroupPath);
                session = new MonitorSession(arguments.Id, stateDirectory.Path, state.InitPid, SyncFd: -1,
                    stdio.StdoutRead, stdio.StderrRead, inputFd, terminal, arguments.Stdin, arguments.StdinOnce,
                    attachFd, logFd, arguments.LogPath, ownPidNamespace ? cgroup with { Procs = null } : cgroup);
                MonitorLoop.BlockSignals();
                // Until crioci-monitor runs, a log-reopen request could land on another thread of
                // this process, where SIGHUP would end it: ignored meanwhile, and crioci-monitor
                // reopens the log once as it starts, so a rotation in between is not missed.
                LibC.signal(ContainerMonitor.ReopenLogSignal, LibC.SIG_IGN);
                SyncPipe.Send(syncFd, SyncPipe.Ready, state.InitPid.ToString(CultureInfo.InvariantCulture));
                LibC.close(syncFd);
                syncFd = -1;
                ExecLeanMonitor(leanMonitor, session);
            }
            catch
            {
                LibC.kill(state.InitPid, Signals.SIGKILL);
                LibC.waitpid(state.InitPid, out _, 0);
                if (arguments.External is { } externalBinary)
                {
                    External.ExternalCommand.Run(externalBinary.Command("delete", "--force", arguments.Id));
                }
                if (state.CgroupPath is { } cgroupPath)
                {
                    new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).Destroy();
                }
                Directory.Delete(stateDirectory.Path, recursive: true);
                throw;
            }
        }
        catch (Exception exception) when (exception is SyscallException or Core.CriOciException or IOException or UnauthorizedAccessException)
        {
            var kind = exception is ContainerCannotRunException ? "cannot-run" : "failed";
            if (syncFd >= 0)
            {
                SyncPipe.Send(syncFd, SyncPipe.Error, $"{kind} {exception.Message}");
                LibC.close(syncFd);
            }
            stdio?.CloseAll();
            if (logFd >= 0)
            {
                LibC.close(logFd);
            }
            return 1;
        }
        return 0;
    }

    /// <summary>execve(2) of crioci-monitor with the session's descriptors inherited; returns only by throwing.</summary>
    private static unsafe void ExecLeanMonitor(string path, MonitorSession session)
    {
        foreach (var fd in new[] { session.SyncFd, session.StdoutFd, session.StderrFd, session.InputFd, session.AttachFd, session.LogFd })
        {
            if (fd >= 0)
            {
                Errno.Check(LibC.fcntl(fd, LibC.F_SETFD, 0), "fcntl F_SETFD", $"fd {fd}");
            }
        }
        var args = session.ToArguments();
        args.Insert(0, path);
        using var argv = new NativeStringArray(args);
        using var envp = new NativeStringArray(["PATH=" + Spec.SpecDefaults.DefaultPath]);
        var pathBytes = NativeString.Allocate(path);
        LibC.execve(pathBytes, argv.Pointer, envp.Pointer);
        throw new SyscallException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "execve", path);
    }
}
