using System.Text;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.External;

/// <summary>What one call of the external binary printed and how it ended.</summary>
public sealed record ExternalOutcome(int ExitCode, string Stdout, string Stderr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The binary's own words, for error messages: stderr, else stdout, else the exit code.</summary>
    public string Message => (Stderr.Trim() is { Length: > 0 } error ? error : Stdout.Trim() is { Length: > 0 } output ? output : $"exit code {ExitCode}");
}

/// <summary>
/// Runs short-lived calls of an external runtime binary (state, start, kill, delete, update,
/// features) with captured output. Spawned with posix_spawn and reaped by PID, like the rest of
/// the runtime's children, so nothing here competes with other waiters.
/// </summary>
public static class ExternalCommand
{
    /// <summary>A runtime call that takes longer than this is stuck (a frozen cgroup, a hung FUSE mount).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static Task<ExternalOutcome> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken, byte[]? stdin = null) =>
        Task.Factory.StartNew(() => Run(argv, stdin), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static ExternalOutcome Run(IReadOnlyList<string> argv, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
        var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
        int stdinRead, stdinWrite = -1;
        if (stdin is null)
        {
            stdinRead = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        }
        else
        {
            (stdinRead, stdinWrite) = ContainerRuntime.CreatePipe();
        }
        int pid;
        try
        {
            pid = ProcessSpawner.Spawn(new SpawnRequest(argv[0], argv, ["PATH=" + SpecDefaults.DefaultPath], [stdinRead, stdoutWrite, stderrWrite]));
        }
        catch
        {
            foreach (var fd in new[] { stdoutRead, stderrRead, stdinWrite }.Where(fd => fd >= 0))
            {
                LibC.close(fd);
            }
            throw;
        }
        finally
        {
            LibC.close(stdoutWrite);
            LibC.close(stderrWrite);
            LibC.close(stdinRead);
        }
        var stderrTask = Task.Factory.StartNew(() => ReadToEnd(stderrRead), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (stdinWrite >= 0)
        {
            // Small documents (a resources JSON): the pipe buffer holds them whole.
            WriteAll(stdinWrite, stdin!);
            LibC.close(stdinWrite);
        }
        var exited = 0;
        using var watchdog = new Timer(_ =>
        {
            // The child is not reaped before the timer is disposed, so its PID cannot be reused here.
            if (Volatile.Read(ref exited) == 0)
            {
                LibC.kill(pid, Signals.SIGKILL);
            }
        }, null, timeout ?? DefaultTimeout, Timeout.InfiniteTimeSpan);
        var stdout = ReadToEnd(stdoutRead);
        int status;
        while (LibC.waitpid(pid, out status, 0) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }
        Volatile.Write(ref exited, 1);
        var exitCode = LibC.ExitCodeFromWaitStatus(status, out _);
        return new ExternalOutcome(exitCode, stdout, stderrTask.Result);
    }

    private static unsafe string ReadToEnd(int fd)
    {
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[8192];
            fixed (byte* pointer = chunk)
            {
                while (true)
                {
                    var read = LibC.read(fd, pointer, (nuint)chunk.Length);
                    if (read < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    if (read <= 0)
                    {
                        break;
                    }
                    buffer.Write(chunk, 0, (int)read);
                }
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static unsafe void WriteAll(int fd, byte[] bytes)
    {
        fixed (byte* pointer = bytes)
        {
            var done = 0;
            while (done < bytes.Length)
            {
                var written = LibC.write(fd, pointer + done, (nuint)(bytes.Length - done));
                if (written < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    return; // EPIPE: the binary exited without reading; its outcome says why.
                }
                done += (int)written;
            }
        }
    }
}
