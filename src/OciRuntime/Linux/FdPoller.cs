using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Readiness of pipes, ptys and pidfds for async code: one epoll instance and one thread for
/// the whole process, so an open exec session costs no thread while it waits. Each wait is
/// one-shot; a descriptor has at most one waiter (a stream that reads and writes the same
/// file uses a dup for the other direction).
/// </summary>
internal sealed unsafe class FdPoller
{
    private static readonly Lazy<FdPoller> SharedInstance = new(() => new FdPoller());

    private readonly int _epoll;
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _waiters = new();

    private FdPoller()
    {
        _epoll = Errno.Check(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        new Thread(Loop) { IsBackground = true, Name = "crioci-fd-poller" }.Start();
    }

    public static FdPoller Shared => SharedInstance.Value;

    /// <summary>Completes once <paramref name="fd"/> is ready for <paramref name="events"/> (or hung up, or in error).</summary>
    public Task WaitAsync(int fd, uint events, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[fd] = waiter;
        var fdEvent = stackalloc byte[LibC.EpollEventSize];
        *(uint*)fdEvent = events | LibC.EPOLLONESHOT;
        *(long*)(fdEvent + LibC.EpollDataOffset) = fd;
        // A one-shot registration stays in the set, disarmed: re-arm it, or add it the first time.
        if (LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_MOD, fd, fdEvent) < 0)
        {
            if (Marshal.GetLastPInvokeError() != Errno.ENOENT)
            {
                Errno.Check(-1, "epoll_ctl", $"fd {fd}");
            }
            Errno.Check(LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, fd, fdEvent), "epoll_ctl", $"fd {fd}");
        }
        return waiter.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Removes <paramref name="fd"/> before it is closed; a pending waiter sees it cancelled.</summary>
    public void Forget(int fd)
    {
        LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, fd, null);
        if (_waiters.TryRemove(fd, out var waiter))
        {
            waiter.TrySetCanceled();
        }
    }

    private void Loop()
    {
        const int batch = 64;
        var events = (byte*)NativeMemory.Alloc((nuint)(batch * LibC.EpollEventSize));
        while (true)
        {
            var count = LibC.epoll_wait(_epoll, events, batch, -1);
            for (var i = 0; i < count; i++)
            {
                var fd = (int)*(long*)(events + i * LibC.EpollEventSize + LibC.EpollDataOffset);
                if (_waiters.TryRemove(fd, out var waiter))
                {
                    waiter.TrySetResult();
                }
            }
        }
    }
}
