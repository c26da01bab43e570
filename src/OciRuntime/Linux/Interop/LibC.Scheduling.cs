using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>sched_setattr(2), ioprio_set(2), personality(2): linux/sched.h, linux/ioprio.h, sys/personality.h.</summary>
internal static partial class LibC
{
    public const int SCHED_OTHER = 0;
    public const int SCHED_FIFO = 1;
    public const int SCHED_RR = 2;
    public const int SCHED_BATCH = 3;
    public const int SCHED_ISO = 4;
    public const int SCHED_IDLE = 5;
    public const int SCHED_DEADLINE = 6;

    public const ulong SCHED_FLAG_RESET_ON_FORK = 0x01;
    public const ulong SCHED_FLAG_RECLAIM = 0x02;
    public const ulong SCHED_FLAG_DL_OVERRUN = 0x04;
    public const ulong SCHED_FLAG_KEEP_POLICY = 0x08;
    public const ulong SCHED_FLAG_KEEP_PARAMS = 0x10;
    public const ulong SCHED_FLAG_UTIL_CLAMP_MIN = 0x20;
    public const ulong SCHED_FLAG_UTIL_CLAMP_MAX = 0x40;

    public const int IOPRIO_CLASS_RT = 1;
    public const int IOPRIO_CLASS_BE = 2;
    public const int IOPRIO_CLASS_IDLE = 3;
    public const int IOPRIO_CLASS_SHIFT = 13;
    public const int IOPRIO_WHO_PROCESS = 1;

    public const ulong PER_LINUX = 0x0000;
    public const ulong PER_LINUX32 = 0x0008;

    /// <summary>struct sched_attr, version 0 (48 bytes): no utilisation clamps.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }

    private static long SYS_sched_setattr => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 274 : 314;

    private static long SYS_ioprio_set => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 30 : 251;

    private static long SYS_ioprio_get => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 31 : 252;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_sched_setattr(long number, int pid, ref SchedAttr attr, uint flags);

    public static int sched_setattr(int pid, ref SchedAttr attr) => (int)syscall_sched_setattr(SYS_sched_setattr, pid, ref attr, 0);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall_ioprio(long number, int which, int who, int ioprio);

    public static int ioprio_set(int which, int who, int ioprio) => (int)syscall_ioprio(SYS_ioprio_set, which, who, ioprio);

    public static int ioprio_get(int which, int who) => (int)syscall_ioprio(SYS_ioprio_get, which, who, 0);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int personality(ulong persona);
}
