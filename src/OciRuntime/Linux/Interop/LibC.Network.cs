using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>The ioctls that bring an interface up: sys/ioctl.h, net/if.h.</summary>
internal static partial class LibC
{
    public const int AF_INET = 2;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;
    public const ulong SIOCGIFFLAGS = 0x8913;
    public const ulong SIOCSIFFLAGS = 0x8914;
    public const short IFF_UP = 0x1;

    /// <summary>struct ifreq, reduced to the name and the flags member of its union (40 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public unsafe struct InterfaceRequest
    {
        [FieldOffset(0)] public fixed byte Name[16];
        [FieldOffset(16)] public short Flags;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, ref InterfaceRequest request2);
}
