using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// Starts an <see cref="InteractiveProcess"/>: exec-init as for ExecSync, but with the streams
/// kept open for the caller, or with a terminal whose master exec-init sends back over a
/// socketpair (runc's console socket protocol, in-process).
/// </summary>
internal static class InteractiveExec
{
    /// <summary>What ^D types: a terminal's end of input (in canonical mode).</summary>
    private const byte EndOfTransmission = 0x04;

    public static async Task<InteractiveProcess> StartAsync(string runtimeExecutable, ExecSeccompCache seccompPrograms, StateDirectory directory,
        RuntimeContainerState? state, ProcessSpec process, bool stdin, CancellationToken cancellationToken)
    {
        ContainerExec.CheckRunning(directory.Id, state);
        var stateFile = directory.ReadState();
        var containerLinux = ContainerExec.ReadContainerLinux(stateFile?.Bundle);
        // Without a terminal, as for ExecSync, no exec-init in between (DirectExec).
        var direct = DirectExec.CanRun(process, containerLinux, state.Pid);
        var processFile = direct ? null : ContainerExec.WriteProcessFile(directory, process);
        var ours = new List<int>();
        try
        {
            var (stdio, streams) = process.Terminal ? TerminalStdio(ours) : PipeStdio(stdin, ours);
            int pid, syncRead = -1;
            try
            {
                pid = processFile is null
                    ? ContainerExec.StartDirect(seccompPrograms, directory, process, state.Pid, stateFile?.CgroupPath, containerLinux?.Seccomp, stdio)
                    : ContainerExec.StartProcess(runtimeExecutable, state.Pid, processFile, stateFile?.CgroupPath, stateFile?.Bundle, stdio, out syncRead);
            }
            finally
            {
                // The child has its copies; ours would keep the pipes from reaching end of file.
                foreach (var fd in new[] { stdio.Stdin, stdio.Stdout, stdio.Stderr, stdio.ConsoleSocket }.Where(fd => fd >= 0).Distinct())
                {
                    LibC.close(fd);
                }
            }
            var report = syncRead < 0 ? null : await Task.Factory.StartNew(() =>
            {
                try
                {
                    return SyncPipe.ReadAll(syncRead);
                }
                finally
                {
                    LibC.close(syncRead);
                }
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            if (report is not null)
            {
                LibC.waitpid(pid, out _, 0);
                throw new ContainerCannotRunException($"exec in container {directory.Id}: {SyncPipe.ErrorText(report)}");
            }
            var pidFd = LibC.pidfd_open(pid);
            if (pidFd < 0)
            {
                var failure = new SyscallException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "pidfd_open", $"exec pid {pid}");
                LibC.kill(pid, Signals.SIGKILL);
                LibC.waitpid(pid, out _, 0);
                throw failure;
            }
            var result = streams(pid, pidFd);
            ours.Clear();
            return result;
        }
        finally
        {
            foreach (var fd in ours)
            {
                LibC.close(fd);
            }
            if (processFile is not null)
            {
                File.Delete(processFile);
            }
        }
    }

    private delegate InteractiveProcess StreamsFactory(int pid, int pidFd);

    private static (InitStdio, StreamsFactory) PipeStdio(bool stdin, List<int> ours)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
        var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
        ours.AddRange([stdoutRead, stderrRead]);
        var stdinRead = devNull;
        var stdinWrite = -1;
        if (stdin)
        {
            LibC.close(devNull);
            (stdinRead, stdinWrite) = ContainerRuntime.CreatePipe();
            ours.Add(stdinWrite);
        }
        return (new InitStdio(stdinRead, stdoutWrite, stderrWrite), (pid, pidFd) => new InteractiveProcess(pid, pidFd,
            stdinWrite >= 0 ? new PollableFdStream(stdinWrite, FileAccess.Write) : null,
            new PollableFdStream(stdoutRead, FileAccess.Read),
            new PollableFdStream(stderrRead, FileAccess.Read),
            terminal: null));
    }

    private static (InitStdio, StreamsFactory) TerminalStdio(List<int> ours)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        var (local, remote) = ConsoleSocket.CreatePair();
        ours.Add(local);
        return (new InitStdio(devNull, devNull, devNull, remote), (pid, pidFd) =>
        {
            // exec-init sent the master before it exec'd the command: it waits in the socket.
            var master = ConsoleSocket.Receive(local)?.Fd;
            if (master is null)
            {
                LibC.pidfd_send_signal(pidFd, Signals.SIGKILL);
                LibC.waitpid(pid, out _, 0);
                LibC.close(pidFd);
                throw new ContainerCannotRunException("exec-init did not send the terminal");
            }
            var input = Errno.Check(LibC.fcntl(master.Value, LibC.F_DUPFD_CLOEXEC, 0), "fcntl F_DUPFD_CLOEXEC", "pty master");
            var terminal = new PollableFdStream(master.Value, FileAccess.ReadWrite);
            var stdin = new PollableFdStream(input, FileAccess.Write) { ByteOnClose = EndOfTransmission };
            return new InteractiveProcess(pid, pidFd, stdin, terminal, null, terminal);
        });
    }
}
