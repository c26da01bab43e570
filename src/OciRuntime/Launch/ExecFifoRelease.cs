using System.Runtime.InteropServices;
using CriOci.Core;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// `start`'s half of the exec fifo handshake (runc's exec.fifo): opening the fifo for reading
/// lets the init's blocking open for writing return, and the init then writes one byte and
/// becomes the container's process. One poll(2) on the fifo and on a pidfd of the init waits
/// for whichever comes first, the byte or the init's death, so nothing polls on a timer and no
/// thread pool or timer thread is started for it.
/// </summary>
internal static class ExecFifoRelease
{
    /// <summary>Poll in slices this long, so cancellation is seen while the init is slow to open the fifo.</summary>
    private const int SliceMilliseconds = 100;

    /// <summary>How long an init that has not opened its end yet is waited for.</summary>
    private const int TimeoutMilliseconds = 10_000;

    /// <summary>Releases the init waiting on <paramref name="fifoPath"/>; returns once it has taken the byte's place as the container's process.</summary>
    public static void Release(string id, string fifoPath, int initPid, ulong initStartTime, CancellationToken cancellationToken)
    {
        // O_NONBLOCK: opening never waits; a reader that opened before any writer sees neither
        // data nor a hang-up until the init has opened its end.
        var fifo = LibC.open(fifoPath, LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
        if (fifo < 0)
        {
            throw new FailedPreconditionException($"container {id} was already started");
        }
        var pidFd = -1;
        try
        {
            if (ReadOne(fifo) > 0)
            {
                return;
            }
            pidFd = LibC.pidfd_open(initPid);
            if (pidFd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.ESRCH)
                {
                    throw new SyscallException(errno, "pidfd_open", $"container {id} init {initPid}");
                }
            }
            // Opened before the start-time check, the pidfd cannot name a later process that reused the PID.
            if (pidFd < 0 || !ProcStat.IsSameLiveProcess(initPid, initStartTime))
            {
                ReturnOrThrowExited(id, fifo);
                return;
            }
            var deadline = Environment.TickCount64 + TimeoutMilliseconds;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    throw new DeadlineExceededException($"container {id} did not start within 10s");
                }
                var (fifoEvents, initExited) = Wait(fifo, pidFd, (int)Math.Min(remaining, SliceMilliseconds));
                if ((fifoEvents & LibC.POLLIN) != 0 && ReadOne(fifo) > 0)
                {
                    return;
                }
                if (initExited)
                {
                    ReturnOrThrowExited(id, fifo);
                    return;
                }
                if ((fifoEvents & LibC.POLLHUP) != 0)
                {
                    // The writer came and went without a byte for us: another `start` took it,
                    // or the init is on its way out (killed, it closes its end before its pidfd
                    // says it is gone).
                    if (ProcStat.IsSameLiveProcess(initPid, initStartTime) && !ProcStat.IsExiting(initPid))
                    {
                        throw new FailedPreconditionException($"container {id} was already started");
                    }
                    ReturnOrThrowExited(id, fifo);
                    return;
                }
            }
        }
        finally
        {
            if (pidFd >= 0)
            {
                LibC.close(pidFd);
            }
            LibC.close(fifo);
        }
    }

    /// <summary>
    /// The init is gone. A byte it wrote before (it became the container's process, which has
    /// already exited) still means it started; otherwise it died before `start`.
    /// </summary>
    private static void ReturnOrThrowExited(string id, int fifo)
    {
        if (ReadOne(fifo) > 0)
        {
            return;
        }
        throw new ContainerCannotRunException($"container {id} exited before it started");
    }

    private static (short FifoEvents, bool InitExited) Wait(int fifo, int pidFd, int timeoutMilliseconds)
    {
        Span<LibC.PollDescriptor> descriptors = stackalloc LibC.PollDescriptor[2];
        descriptors[0] = new LibC.PollDescriptor { Fd = fifo, Events = LibC.POLLIN };
        descriptors[1] = new LibC.PollDescriptor { Fd = pidFd, Events = LibC.POLLIN };
        if (LibC.poll(ref descriptors[0], 2, timeoutMilliseconds) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new SyscallException(errno, "poll", "exec fifo");
            }
            return (0, false);
        }
        return (descriptors[0].ReturnedEvents, (descriptors[1].ReturnedEvents & LibC.POLLIN) != 0);
    }

    private static unsafe int ReadOne(int fd)
    {
        byte value;
        return (int)LibC.read(fd, &value, 1);
    }
}
