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
/// `crioci-runtime monitor`: the long-lived parent of one container. It creates the container,
/// copies the container's stdout and stderr (or its terminal) into the CRI log and to attach
/// clients, passes their input on, reaps the init and records its exit in exit.json. It runs in its own session, detached from the daemon, so the daemon can
/// be restarted or killed without the container noticing.
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

    public static int Run(MonitorArguments arguments, string runtimeExecutable)
    {
        SyncPipe.SetCloseOnExec(arguments.SyncFd);
        // Processes the container leaves behind are re-parented here rather than to the
        // system's init, so the monitor reaps them.
        LibC.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

        CriLogWriter? log = null;
        MonitorStdio? stdio = null;
        ContainerStateFile state;
        ContainerInput input;
        AttachServer attach;
        var ownPidNamespace = true;
        try
        {
            var spec = ContainerLauncher.LoadSpec(Path.GetFullPath(arguments.Bundle));
            var terminal = spec.Process?.Terminal == true;
            ownPidNamespace = spec.Linux?.Namespaces?.Any(n => n?.Type == "pid" && string.IsNullOrEmpty(n.Path)) == true;
            stdio = MonitorStdio.Open(terminal, arguments.Stdin);
            if (arguments.LogPath is not null)
            {
                log = CriLogWriter.Open(arguments.LogPath);
            }
            state = arguments.External is { } external
                ? External.ExternalCreate.Create(external, arguments.StateRoot, arguments.Id, arguments.Bundle, stdio.ForInit)
                : ContainerLauncher.Create(arguments.StateRoot, arguments.Id, arguments.Bundle, stdio.ForInit, runtimeExecutable, monitored: true);
            try
            {
                input = stdio.TakeOver();
                attach = AttachServer.Start(new StateDirectory(arguments.StateRoot, arguments.Id).AttachSocketPath, input, arguments.StdinOnce);
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
                Directory.Delete(new StateDirectory(arguments.StateRoot, arguments.Id).Path, recursive: true);
                throw;
            }
        }
        catch (Exception exception) when (exception is SyscallException or Core.CriOciException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            var kind = exception is ContainerCannotRunException ? "cannot-run" : "failed";
            SyncPipe.Send(arguments.SyncFd, SyncPipe.Error, $"{kind} {exception.Message}");
            LibC.close(arguments.SyncFd);
            stdio?.CloseAll();
            log?.Dispose();
            return 1;
        }
        SyncPipe.Send(arguments.SyncFd, SyncPipe.Ready, state.InitPid.ToString(CultureInfo.InvariantCulture));
        LibC.close(arguments.SyncFd);

        // kubelet rotates by renaming the file and calling ReopenContainerLog; records written
        // in between land in the renamed file, none are lost.
        using var reopen = log is null || arguments.LogPath is null ? null
            : System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true;
                log.Reopen(arguments.LogPath);
            });
        // A terminal's output is logged as stdout, as CRI-O and containerd do.
        var pumps = new List<Thread> { StartPump(stdio.StdoutRead, log is null ? null : new CriLogStream(log, "stdout"), attach, AttachFrameKind.Stdout) };
        if (stdio.StderrRead >= 0)
        {
            pumps.Add(StartPump(stdio.StderrRead, log is null ? null : new CriLogStream(log, "stderr"), attach, AttachFrameKind.Stderr));
        }
        var (exitCode, signal) = WaitForInit(state.InitPid);
        if (!ownPidNamespace)
        {
            KillLeftovers(state);
        }
        // Output still in the pipes belongs before the exit record; processes that outlived
        // the init (only possible without a private PID namespace) must not hold us forever.
        foreach (var pump in pumps)
        {
            pump.Join(TimeSpan.FromSeconds(2));
        }
        // Attach clients hear of the exit first: once exit.json exists the container may be
        // deleted at once, and the monitor must be done with it by then.
        attach.Complete(exitCode);
        input.Dispose();
        new StateDirectory(arguments.StateRoot, arguments.Id).WriteExit(
            new ContainerExitFile(exitCode, signal, DateTimeOffset.UtcNow, OomKilled: WasOomKilled(state, signal)));
        log?.Dispose();
        return 0;
    }

    /// <summary>
    /// The cgroup's OOM killer struck during the container's life: Kubernetes reports
    /// OOMKilled then, whichever of its processes died (containerd does the same).
    /// </summary>
    private static bool WasOomKilled(ContainerStateFile state, int signal)
    {
        _ = signal;
        if (state.CgroupPath is null)
        {
            return false;
        }
        try
        {
            return new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), state.CgroupPath).OomKillCount() > 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// In a shared (pod, target or host) PID namespace the init's exit kills nothing else: the
    /// container's other processes would live on, re-parented to the namespace's reaper. They
    /// are the container's, so they go with it (runc kills the cgroup's processes the same way).
    /// </summary>
    private static void KillLeftovers(ContainerStateFile state)
    {
        if (state.CgroupPath is null)
        {
            return;
        }
        try
        {
            foreach (var pid in new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), state.CgroupPath).Pids())
            {
                LibC.kill(pid, Signals.SIGKILL);
            }
        }
        catch (IOException)
        {
            // The cgroup is gone already: so are its processes.
        }
    }

    private static (int ExitCode, int Signal) WaitForInit(int initPid)
    {
        while (true)
        {
            var pid = LibC.waitpid(-1, out var status, 0);
            if (pid < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                // ECHILD: the init is gone without us seeing it; report the conventional unknown code.
                return (255, 0);
            }
            if (pid == initPid)
            {
                var exitCode = LibC.ExitCodeFromWaitStatus(status, out var signal);
                // Reap whatever else has already exited, without blocking.
                while (LibC.waitpid(-1, out _, LibC.WNOHANG) > 0)
                {
                }
                return (exitCode, signal);
            }
        }
    }

    private static Thread StartPump(int fd, CriLogStream? stream, AttachServer attach, AttachFrameKind kind)
    {
        var thread = new Thread(() => Pump(fd, stream, attach, kind)) { IsBackground = true, Name = "crioci-log" };
        thread.Start();
        return thread;
    }

    private static unsafe void Pump(int fd, CriLogStream? stream, AttachServer attach, AttachFrameKind kind)
    {
        var buffer = new byte[32 * 1024];
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var read = LibC.read(fd, pointer, (nuint)buffer.Length);
                if (read < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }
                // 0 at the end of a pipe; EIO from a terminal's master once the container has closed it.
                if (read <= 0)
                {
                    break;
                }
                stream?.Append(buffer.AsSpan(0, (int)read));
                attach.Broadcast(kind, buffer.AsSpan(0, (int)read));
            }
        }
        stream?.Flush();
        LibC.close(fd);
    }
}
