using System.Runtime.InteropServices;
using System.Text;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// A `crioci-runtime monitor` started before it is needed, blocked in read(2) until the daemon
/// sends it the arguments of the container it is to create (<see cref="TrySend"/>). Starting the
/// monitor is a NativeAOT process start (exec, dynamic linking, runtime start-up: several
/// milliseconds of CPU, more on a busy machine) that otherwise sits on every CreateContainer's
/// critical path; with a monitor on standby it happens between creates instead.
/// <para>
/// The request is the monitor's own command line after the verb, NUL-terminated strings, ended
/// by closing the pipe. A standby whose pipe ends without a request (the daemon exited or
/// dropped it) exits quietly: nothing was created and nobody waits for a report. Every
/// descriptor the daemon keeps is close-on-exec, so no other child of the daemon holds the pipe
/// open and keeps a standby alive after the daemon is gone.
/// </para>
/// </summary>
internal sealed class StandbyMonitor : IDisposable
{
    /// <summary>The descriptor the monitor reads its request from.</summary>
    public const int RequestFd = 3;

    /// <summary>The descriptor the monitor writes its ready or error report to.</summary>
    public const int SyncFd = 4;

    private int _requestWrite;
    private int _syncRead;

    private StandbyMonitor(int pid, int requestWrite, int syncRead)
    {
        Pid = pid;
        _requestWrite = requestWrite;
        _syncRead = syncRead;
    }

    public int Pid { get; }

    /// <summary>
    /// Spawns a monitor straight into its own session, so signals to the daemon's process group
    /// never reach it; the daemon stays its parent and reaps it (<see cref="MonitorReaper"/>).
    /// </summary>
    public static StandbyMonitor Start(string runtimeExecutable, string stateRoot)
    {
        var (requestRead, requestWrite) = ContainerRuntime.CreatePipe();
        int syncRead, syncWrite;
        try
        {
            (syncRead, syncWrite) = ContainerRuntime.CreatePipe();
        }
        catch
        {
            LibC.close(requestRead);
            LibC.close(requestWrite);
            throw;
        }
        var devNull = -1;
        try
        {
            devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
            // --root only names the daemon's state in the process list (whose monitor this is);
            // the request carries the arguments the monitor uses.
            var pid = ProcessSpawner.Spawn(new SpawnRequest(runtimeExecutable,
                [runtimeExecutable, "monitor", "--detached", "--root", stateRoot, "--request-fd", RequestFd.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                ["PATH=" + SpecDefaults.DefaultPath], [devNull, devNull, devNull, requestRead, syncWrite], NewSession: true));
            MonitorReaper.Adopt(pid);
            return new StandbyMonitor(pid, requestWrite, syncRead);
        }
        catch
        {
            LibC.close(requestWrite);
            LibC.close(syncRead);
            throw;
        }
        finally
        {
            if (devNull >= 0)
            {
                LibC.close(devNull);
            }
            LibC.close(requestRead);
            LibC.close(syncWrite);
        }
    }

    /// <summary>
    /// Gives the monitor its container: <paramref name="arguments"/> as `monitor` takes them,
    /// with --sync-fd <see cref="SyncFd"/>. False when the monitor is gone (the caller starts
    /// another); the pipe is closed either way, so the monitor can no longer wait for more.
    /// </summary>
    public unsafe bool TrySend(IReadOnlyList<string> arguments)
    {
        var request = new StringBuilder();
        foreach (var argument in arguments)
        {
            request.Append(argument).Append('\0');
        }
        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        try
        {
            fixed (byte* pointer = bytes)
            {
                var offset = 0;
                while (offset < bytes.Length)
                {
                    var written = LibC.write(_requestWrite, pointer + offset, (nuint)(bytes.Length - offset));
                    if (written < 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        if (errno == Errno.EINTR)
                        {
                            continue;
                        }
                        // EPIPE: it exited (or was killed) while it waited.
                        return false;
                    }
                    offset += (int)written;
                }
            }
            return true;
        }
        finally
        {
            LibC.close(_requestWrite);
            _requestWrite = -1;
        }
    }

    /// <summary>The read end of the monitor's report pipe; the caller owns it from now on.</summary>
    public int TakeSyncRead()
    {
        var fd = _syncRead;
        _syncRead = -1;
        return fd;
    }

    /// <summary>Drops the monitor: an unused standby sees its request pipe end and exits.</summary>
    public void Dispose()
    {
        if (_requestWrite >= 0)
        {
            LibC.close(_requestWrite);
            _requestWrite = -1;
        }
        if (_syncRead >= 0)
        {
            LibC.close(_syncRead);
            _syncRead = -1;
        }
    }

    /// <summary>
    /// The monitor's side: blocks until the request arrives and returns its arguments, or null
    /// when the pipe ended without one. Closes <paramref name="fd"/>, so the container's init
    /// never inherits it.
    /// </summary>
    public static unsafe IReadOnlyList<string>? ReadRequest(int fd)
    {
        var received = new List<byte>();
        var buffer = stackalloc byte[4096];
        try
        {
            while (true)
            {
                var read = LibC.read(fd, buffer, 4096);
                if (read < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    Errno.Check(-1, "read", "monitor request");
                }
                if (read == 0)
                {
                    break;
                }
                received.AddRange(new ReadOnlySpan<byte>(buffer, (int)read));
            }
        }
        finally
        {
            LibC.close(fd);
        }
        if (received.Count == 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(received.ToArray());
        return text.TrimEnd('\0').Split('\0');
    }
}
