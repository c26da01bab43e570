using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>epoll(7) and poll(2): sys/epoll.h, poll.h, and fcntl's status flags.</summary>
internal static partial class LibC
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLONESHOT = 1u << 30;

    public const short POLLIN = 0x001;
    public const short POLLOUT = 0x004;
    public const short POLLHUP = 0x010;

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    /// <summary>
    /// struct epoll_event is packed on x86_64 (12 bytes: the 64-bit data right after the
    /// 32-bit events) and naturally aligned elsewhere (16 bytes).
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int epoll_ctl(int epoll, int operation, int fd, byte* fdEvent);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int epoll_wait(int epoll, byte* events, int maxEvents, int timeoutMilliseconds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(ref PollDescriptor descriptor, nuint count, int timeoutMilliseconds);
}
