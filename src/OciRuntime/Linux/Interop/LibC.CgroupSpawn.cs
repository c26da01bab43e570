using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>
/// crioci_spawn (Linux/Native/crioci_spawn.c): posix_spawn's work for a child born in its
/// cgroups. Linked into the NativeAOT executables like crioci_exec_spawn; a JIT-hosted process
/// has no such library.
/// </summary>
internal static unsafe partial class LibC
{
    /// <summary>Mirrors struct crioci_spawn.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CgroupSpawnRequest
    {
        public byte* Path;
        public byte** Argv;
        public byte** Envp;
        public int* Fds;
        public int FdCount;
        public int NewSession;
        public int* CgroupTaskFds;
        public int CgroupTaskFdCount;
        public int Cgroup2Fd;
        public int FailedStep;
        public int Error;
    }

    /// <summary>The child's steps, by the numbers crioci_spawn.c reports them with.</summary>
    public static string CgroupSpawnStep(int step) => step switch
    {
        1 => "join the cgroup",
        2 => "setsid",
        3 => "dup2",
        4 => "execve",
        5 => "clone",
        _ => $"step {step}",
    };

    [LibraryImport(NativeSpawnLibrary, EntryPoint = "crioci_spawn", SetLastError = true)]
    public static partial int crioci_spawn(CgroupSpawnRequest* request);

    [LibraryImport(NativeSpawnLibrary, EntryPoint = "crioci_spawn_available")]
    public static partial int crioci_spawn_available();
}
