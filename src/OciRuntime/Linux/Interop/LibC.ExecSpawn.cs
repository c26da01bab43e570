using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>
/// crioci_exec_spawn (Linux/Native/crioci_exec_spawn.c): the per-process steps of an exec into a
/// container, between clone and execve, with no managed code in between. Linked into the
/// NativeAOT executables like crioci_userns_spawn; a JIT-hosted process has no such library.
/// </summary>
internal static unsafe partial class LibC
{
    /// <summary>Mirrors struct crioci_exec_rlimit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExecSpawnRlimit
    {
        public int Resource;
        public int Padding;
        public ulong Soft;
        public ulong Hard;
    }

    /// <summary>Mirrors struct crioci_exec_spawn.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExecSpawnRequest
    {
        public byte* Path;
        public byte** Argv;
        public byte** Envp;
        public int* Fds;
        public int FdCount;
        public int ReportFd;
        public int* CgroupFds;
        public int CgroupFdCount;
        public int RlimitCount;
        public ExecSpawnRlimit* Rlimits;
        public uint* Groups;
        public int GroupCount;
        public uint Uid;
        public uint Gid;
        public int Umask;
        public int LastCap;
        public int NoNewPrivs;
        public ulong Held;
        public ulong Bounding;
        public ulong Effective;
        public ulong Permitted;
        public ulong Inheritable;
        public ulong Ambient;
        public byte* SeccompFilter;
        public int SeccompLength;
        public uint SeccompFlags;
        public int Cgroup2Fd;
        public int CgroupNamespaceFd;
    }

    /// <summary>Mirrors struct crioci_exec_report: the failed step and its errno.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExecSpawnReport
    {
        public int Step;
        public int Error;
    }

    /// <summary>The child's steps, by the numbers crioci_exec_spawn.c reports them with.</summary>
    public static string ExecSpawnStep(int step) => step switch
    {
        1 => "join the container's cgroup",
        2 => "process.rlimits (prlimit)",
        3 => "linux.seccomp (seccomp)",
        4 => "capabilities: drop from the bounding set",
        5 => "prctl PR_SET_KEEPCAPS",
        6 => "setgroups",
        7 => "setresgid",
        8 => "setresuid",
        9 => "capset",
        10 => "ambient capabilities",
        11 => "prctl PR_SET_NO_NEW_PRIVS",
        12 => "dup2",
        13 => "execve",
        14 => "setns (cgroup namespace)",
        _ => $"step {step}",
    };

    [LibraryImport(NativeSpawnLibrary, EntryPoint = "crioci_exec_spawn", SetLastError = true)]
    public static partial int crioci_exec_spawn(ExecSpawnRequest* request);

    [LibraryImport(NativeSpawnLibrary, EntryPoint = "crioci_exec_spawn_available")]
    public static partial int crioci_exec_spawn_available();

    public const uint MFD_CLOEXEC = 1;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int memfd_create(string name, uint flags);
}
