using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The monitor's only thread waits here: one epoll set over the container's output, its input,
/// the attach socket and its clients and a signalfd, each with the handler its readiness runs.
/// Level-triggered, so a handler may do one bounded piece of work and be called again.
/// </summary>
internal sealed unsafe class EventLoop : IDisposable
{
    private const int Batch = 16;
    private readonly int _epoll;
    private readonly Dictionary<int, Action<uint>> _handlers = [];
    private readonly byte* _events;

    public EventLoop()
    {
        _epoll = Errno.Check(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        _events = (byte*)NativeMemory.Alloc((nuint)(Batch * LibC.EpollEventSize));
    }

    public void Add(int fd, uint events, Action<uint> handler)
    {
        Control(LibC.EPOLL_CTL_ADD, fd, events);
        _handlers[fd] = handler;
    }

    /// <summary>Changes what <paramref name="fd"/> waits for (EPOLLHUP and EPOLLERR are always reported).</summary>
    public void Change(int fd, uint events) => Control(LibC.EPOLL_CTL_MOD, fd, events);

    /// <summary>Forgets <paramref name="fd"/>; call before closing it.</summary>
    public void Remove(int fd)
    {
        if (_handlers.Remove(fd))
        {
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, fd, null);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1: for ever) and runs the handlers of what became ready.</summary>
    public void RunOnce(int timeoutMilliseconds)
    {
        var count = LibC.epoll_wait(_epoll, _events, Batch, timeoutMilliseconds);
        if (count < 0)
        {
            if (Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
                return;
            }
            Errno.Check(count, "epoll_wait");
        }
        for (var i = 0; i < count; i++)
        {
            var entry = _events + i * LibC.EpollEventSize;
            var fd = (int)*(long*)(entry + LibC.EpollDataOffset);
            // An earlier handler of this batch may have removed (and closed) it.
            if (_handlers.TryGetValue(fd, out var handler))
            {
                handler(*(uint*)entry);
            }
        }
    }

    private void Control(int operation, int fd, uint events)
    {
        var entry = stackalloc byte[LibC.EpollEventSize];
        *(uint*)entry = events;
        *(long*)(entry + LibC.EpollDataOffset) = fd;
        Errno.Check(LibC.epoll_ctl(_epoll, operation, fd, entry), "epoll_ctl", $"fd {fd}");
    }

    public void Dispose()
    {
        LibC.close(_epoll);
        NativeMemory.Free(_events);
    }
}
