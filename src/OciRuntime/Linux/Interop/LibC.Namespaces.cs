using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>unshare(2), setns(2), sethostname(2): sched.h and unistd.h.</summary>
internal static partial class LibC
{
    public const int CLONE_NEWTIME = 0x80;
    public const int CLONE_FS = 0x200;
    public const int CLONE_NEWNS = 0x20000;
    public const int CLONE_NEWCGROUP = 0x2000000;
    public const int CLONE_NEWUTS = 0x4000000;
    public const int CLONE_NEWIPC = 0x8000000;
    public const int CLONE_NEWUSER = 0x10000000;
    public const int CLONE_NEWPID = 0x20000000;
    public const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sethostname(byte[] name, nint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setdomainname(byte[] name, nint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int gettid();
}
