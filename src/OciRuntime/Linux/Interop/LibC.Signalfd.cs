using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>signalfd(2) and the signal mask it needs: sys/signalfd.h, signal.h.</summary>
internal static partial class LibC
{
    public const int SIGHUP = 1;
    public const int SIGPIPE = 13;
    public const int SIGCHLD = 17;

    public const int SIG_BLOCK = 0;
    public const int SIG_SETMASK = 2;
    public const int SFD_NONBLOCK = 0x800;
    public const int SFD_CLOEXEC = 0x80000;
    public const nint SIG_IGN = 1;

    /// <summary>glibc's sigset_t: 1024 bits, of which the kernel reads the first 64.</summary>
    public const int SignalSetBytes = 128;

    /// <summary>struct signalfd_siginfo: 128 bytes, ssi_signo first.</summary>
    public const int SignalfdInfoBytes = 128;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int sigprocmask(int how, byte* set, byte* oldSet);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int signalfd(int fd, byte* mask, int flags);

    /// <summary>Sets signal <paramref name="signal"/> in a sigset_t (bit signal-1, as sigaddset does).</summary>
    public static unsafe void SignalSetAdd(byte* set, int signal) => set[(signal - 1) / 8] |= (byte)(1 << ((signal - 1) % 8));
}
