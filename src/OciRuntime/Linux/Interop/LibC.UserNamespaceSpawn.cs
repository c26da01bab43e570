using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>
/// crioci_userns_spawn (Linux/Native/crioci_userns_spawn.c): clone into a user namespace and
/// execve with no managed code in between. Linked statically into the NativeAOT executables
/// (Linux/Native/NativeCode.targets); a JIT-hosted process has no such library.
/// </summary>
internal static unsafe partial class LibC
{
    public const string NativeSpawnLibrary = "crioci_native";

    /// <summary>Mirrors struct crioci_userns_spawn.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UserNamespaceSpawnRequest
    {
        public byte* Path;
        public byte** Argv;
        public byte** Envp;
        public int* Fds;
        public int FdCount;
        public int CloneFlags;
        public int UnshareFlags;
        public int UserNamespaceFd;
        public int ReleaseFd;
        public int ReleaseParentFd;
        public int ReportFd;
        public int NewSession;
    }

    /// <summary>Mirrors struct crioci_report: <see cref="ReportPid"/> or a failed step with its errno.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UserNamespaceSpawnReport
    {
        public int Kind;
        public int Value;
    }

    public const int ReportPid = 1;

    /// <summary>The child's steps, by the numbers crioci_userns_spawn.c reports them with.</summary>
    public static string UserNamespaceSpawnStep(int kind) => kind switch
    {
        2 => "setns (user namespace)",
        3 => "wait for release",
        4 => "setresgid 0 in the user namespace",
        5 => "setgroups in the user namespace",
        6 => "setresuid 0 in the user namespace",
        7 => "unshare",
        8 => "clone (pid namespace)",
        9 => "setsid",
        10 => "dup2",
        11 => "execve",
        _ => $"step {kind}",
    };

    [LibraryImport(NativeSpawnLibrary, EntryPoint = "crioci_userns_spawn", SetLastError = true)]
    public static partial int crioci_userns_spawn(UserNamespaceSpawnRequest* request);

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint geteuid();
}
