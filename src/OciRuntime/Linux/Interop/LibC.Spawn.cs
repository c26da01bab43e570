using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>posix_spawn(3) and its attribute and file-action helpers: spawn.h, signal.h.</summary>
internal static partial class LibC
{
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETSID = 0x80;

    // glibc's posix_spawnattr_t is 336 bytes and posix_spawn_file_actions_t 80 on x86_64 and
    // arm64; the buffers are larger so a future layout change cannot overrun them.
    public const int SpawnAttributesSize = 1024;
    public const int FileActionsSize = 512;
    public const int SignalSetSize = 128;

    [LibraryImport("libc", SetLastError = false)]
    public static unsafe partial int posix_spawn(out int pid, byte* path, byte* fileActions, byte* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawn_file_actions_init(byte* fileActions);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawn_file_actions_destroy(byte* fileActions);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawn_file_actions_adddup2(byte* fileActions, int fd, int newFd);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawnattr_init(byte* attributes);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawnattr_destroy(byte* attributes);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawnattr_setflags(byte* attributes, short flags);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawnattr_setsigmask(byte* attributes, byte* signals);

    [LibraryImport("libc")]
    public static unsafe partial int posix_spawnattr_setsigdefault(byte* attributes, byte* signals);

    [LibraryImport("libc")]
    public static unsafe partial int sigemptyset(byte* signals);

    [LibraryImport("libc")]
    public static unsafe partial int sigfillset(byte* signals);

    public const int F_DUPFD_CLOEXEC = 1030;
}
