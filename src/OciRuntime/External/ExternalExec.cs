using System.Globalization;
using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.External;

/// <summary>
/// Exec for external binaries: `binary exec --process FILE [--tty] --pid-file P ID` in the
/// foreground, so the binary is our child, relays the process's streams and exits with its
/// code. The process file is the same OCI process document the embedded exec reads.
/// </summary>
internal static class ExternalExec
{
    /// <summary>What ^D types: a terminal's end of input.</summary>
    private const byte EndOfTransmission = 0x04;

    public static async Task<ExecResult> RunAsync(ExternalBinary binary, StateDirectory directory, RuntimeContainerState? state,
        ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ContainerExec.CheckRunning(directory.Id, state);
        var processFile = ContainerExec.WriteProcessFile(directory, process with { Terminal = false });
        var pidFile = processFile + ".pid";
        try
        {
            var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
            var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
            var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
            int pid;
            try
            {
                var argv = binary.Command("exec", "--process", processFile, "--pid-file", pidFile, directory.Id);
                pid = ProcessSpawner.Spawn(new SpawnRequest(argv[0], argv, ["PATH=" + SpecDefaults.DefaultPath], [devNull, stdoutWrite, stderrWrite]));
            }
            catch
            {
                LibC.close(stdoutRead);
                LibC.close(stderrRead);
                throw;
            }
            finally
            {
                LibC.close(devNull);
                LibC.close(stdoutWrite);
                LibC.close(stderrWrite);
            }
            using var stdout = ExecOutput.ReadStream(stdoutRead);
            using var stderr = ExecOutput.ReadStream(stderrRead);
            var stdoutTask = ExecOutput.ReadCappedAsync(stdout);
            var stderrTask = ExecOutput.ReadCappedAsync(stderr);
            var exitTask = Task.Factory.StartNew(() =>
            {
                int status;
                while (LibC.waitpid(pid, out status, 0) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                }
                return LibC.ExitCodeFromWaitStatus(status, out _);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                if (timeout > TimeSpan.Zero)
                {
                    limit.CancelAfter(timeout);
                }
                try
                {
                    await exitTask.WaitAsync(limit.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // SIGKILL is not relayed by the binary: kill the command itself, then the binary.
                    KillCommand(pidFile);
                    LibC.kill(pid, Signals.SIGKILL);
                    await exitTask.ConfigureAwait(false);
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }
                    throw new DeadlineExceededException($"command timed out after {timeout.TotalSeconds}s in container {directory.Id}");
                }
            }
            var output = await Task.WhenAll(stdoutTask, stderrTask).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
            return new ExecResult(exitTask.Result, output[0], output[1]);
        }
        finally
        {
            File.Delete(processFile);
            File.Delete(pidFile);
        }
    }

    /// <summary>
    /// An interactive session: the binary gets pipes, or with a terminal the slave of a pty we
    /// own (it makes the container's own pty and relays between the two). Known limit: a resize
    /// of our pty is not passed on, because the binary does not have it as its controlling
    /// terminal and so gets no SIGWINCH.
    /// </summary>
    public static async Task<InteractiveProcess> StartInteractiveAsync(ExternalBinary binary, StateDirectory directory, RuntimeContainerState? state,
        ProcessSpec process, bool stdin, CancellationToken cancellationToken)
    {
        ContainerExec.CheckRunning(directory.Id, state);
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        var processFile = ContainerExec.WriteProcessFile(directory, process);
        var ours = new List<int>();
        var theirs = new List<int>();
        try
        {
            List<string> verb = ["exec", "--process", processFile];
            if (process.Terminal)
            {
                verb.Add("--tty");
            }
            verb.Add(directory.Id);
            int[] childFds;
            Func<int, int, InteractiveProcess> streams;
            if (process.Terminal)
            {
                var pty = Pty.Open();
                ours.Add(pty.Master);
                theirs.Add(pty.Slave);
                childFds = [pty.Slave, pty.Slave, pty.Slave];
                streams = (pid, pidFd) =>
                {
                    var input = Errno.Check(LibC.fcntl(pty.Master, LibC.F_DUPFD_CLOEXEC, 0), "fcntl F_DUPFD_CLOEXEC", "pty master");
                    var terminal = new PollableFdStream(pty.Master, FileAccess.ReadWrite);
                    var stdinStream = new PollableFdStream(input, FileAccess.Write) { ByteOnClose = EndOfTransmission };
                    return new InteractiveProcess(pid, pidFd, stdinStream, terminal, null, terminal);
                };
            }
            else
            {
                var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
                var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
                ours.AddRange([stdoutRead, stderrRead]);
                theirs.AddRange([stdoutWrite, stderrWrite]);
                int stdinRead, stdinWrite = -1;
                if (stdin)
                {
                    (stdinRead, stdinWrite) = ContainerRuntime.CreatePipe();
                    ours.Add(stdinWrite);
                }
                else
                {
                    stdinRead = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
                }
                theirs.Add(stdinRead);
                childFds = [stdinRead, stdoutWrite, stderrWrite];
                streams = (pid, pidFd) => new InteractiveProcess(pid, pidFd,
                    stdinWrite >= 0 ? new PollableFdStream(stdinWrite, FileAccess.Write) : null,
                    new PollableFdStream(stdoutRead, FileAccess.Read),
                    new PollableFdStream(stderrRead, FileAccess.Read),
                    terminal: null);
            }
            var argv = binary.Command(verb);
            var pid = ProcessSpawner.Spawn(new SpawnRequest(argv[0], argv, ["PATH=" + SpecDefaults.DefaultPath, "TERM=xterm"], childFds));
            foreach (var fd in theirs)
            {
                LibC.close(fd);
            }
            theirs.Clear();
            var pidFd = LibC.pidfd_open(pid);
            if (pidFd < 0)
            {
                var failure = new Linux.SyscallException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "pidfd_open", $"exec pid {pid}");
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
            foreach (var fd in ours.Concat(theirs))
            {
                LibC.close(fd);
            }
            // The binary reads the file before it starts the process; deleting it early would
            // race that, so it goes with the container's state directory, or the next exec's cleanup.
            ScheduleDelete(processFile);
        }
    }

    /// <summary>Deletes the process file once the binary has surely read it (it does so first thing).</summary>
    private static void ScheduleDelete(string processFile) =>
        _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ =>
        {
            try
            {
                File.Delete(processFile);
            }
            catch (IOException)
            {
            }
        }, TaskScheduler.Default);

    private static void KillCommand(string pidFile)
    {
        try
        {
            if (int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var commandPid))
            {
                LibC.kill(commandPid, Signals.SIGKILL);
            }
        }
        catch (IOException)
        {
            // No pid file yet: the command never started.
        }
    }
}
