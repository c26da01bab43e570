using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>Process, credential and signal calls: unistd.h, sys/wait.h, sys/prctl.h, sys/resource.h.</summary>
internal static partial class LibC
{
    public const int WNOHANG = 1;

    public const int PR_SET_PDEATHSIG = 1;
    public const int PR_SET_DUMPABLE = 4;
    public const int PR_SET_KEEPCAPS = 8;
    public const int PR_CAPBSET_DROP = 24;
    public const int PR_SET_CHILD_SUBREAPER = 36;
    public const int PR_SET_NO_NEW_PRIVS = 38;
    public const int PR_CAP_AMBIENT = 47;
    public const int PR_CAP_AMBIENT_RAISE = 2;
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;

    private const long SYS_pidfd_send_signal = 424;
    private const long SYS_close_range = 436;

    public const uint CLOSE_RANGE_CLOEXEC = 1u << 2;
    private const long SYS_pidfd_open = 434;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    /// <summary>signal(2); <paramref name="handler"/> 0 is SIG_DFL. Returns the previous handler, or -1 (SIG_ERR).</summary>
    [LibraryImport("libc", EntryPoint = "signal", SetLastError = true)]
    public static partial nint signal(int signal, nint handler);

    public const nint SIG_DFL = 0;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, out int status, int options);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setgroups(nuint size, uint[] groups);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prlimit(int pid, int resource, ref RLimit newLimit, nint oldLimit);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int execve(byte* path, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_pidfd_open(long number, int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_pidfd_send_signal(long number, int pidfd, int signal, nint info, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_close_range(long number, uint first, uint last, uint flags);

    private static long SYS_setgroups => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 159 : 116;
    private static long SYS_setresuid => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 147 : 117;
    private static long SYS_setresgid => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 149 : 119;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_setgroups(long number, nuint size, uint[] groups);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_setresid(long number, uint real, uint effective, uint saved);

    // The kernel changes the credentials of the calling thread only; glibc's wrappers make every
    // thread of the process follow (a signal to each thread and a wait for its answer), which a
    // process about to execve(2) from this thread, as the runtime's inits are, does not need:
    // execve keeps the caller's credentials and ends the other threads.

    /// <summary>setgroups(2) for the calling thread only (the raw system call).</summary>
    public static int setgroups_this_thread(uint[] groups) => (int)syscall_setgroups(SYS_setgroups, (nuint)groups.Length, groups);

    /// <summary>setresgid(2) for the calling thread only (the raw system call).</summary>
    public static int setresgid_this_thread(uint gid) => (int)syscall_setresid(SYS_setresgid, gid, gid, gid);

    /// <summary>setresuid(2) for the calling thread only (the raw system call).</summary>
    public static int setresuid_this_thread(uint uid) => (int)syscall_setresid(SYS_setresuid, uid, uid, uid);

    public static int close_range(uint first, uint last, uint flags) => (int)syscall_close_range(SYS_close_range, first, last, flags);

    public static int pidfd_open(int pid) => (int)syscall_pidfd_open(SYS_pidfd_open, pid, 0);

    public static int pidfd_send_signal(int pidfd, int signal) =>
        (int)syscall_pidfd_send_signal(SYS_pidfd_send_signal, pidfd, signal, 0, 0);

    /// <summary>Decodes a wait status into an exit code the way a shell does (128+signal).</summary>
    public static int ExitCodeFromWaitStatus(int status, out int signal)
    {
        signal = status & 0x7f;
        if (signal == 0)
        {
            return (status >> 8) & 0xff;
        }
        return 128 + signal;
    }
}
