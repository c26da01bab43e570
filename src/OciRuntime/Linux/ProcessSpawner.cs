using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>A namespace to enter by path before spawning (OCI <c>namespaces[].path</c>).</summary>
public sealed record NamespaceJoin(int CloneFlag, string Path);

/// <summary>What to start and in which namespaces.</summary>
/// <param name="ChildFds">Index i is the parent's descriptor that becomes fd i in the child.</param>
/// <param name="UnshareFlags">CLONE_NEW* flags for namespaces created for the child.</param>
/// <param name="TimeOffsets">
/// With CLONE_NEWTIME, the new time namespace's clock offsets in /proc/PID/timens_offsets form
/// ("monotonic SECS NANOSECS" lines); they can only be written before its first process exists.
/// </param>
/// <param name="ReadOnlyExecutable">
/// Execute the binary from a read-only detached mount (<see cref="Linux.ReadOnlyExecutable"/>):
/// for the runtime itself when it starts inside a container's namespaces.
/// </param>
/// <param name="UserNamespace">
/// A user namespace to create or join (<see cref="UserNamespaceSpawn"/>); the namespaces of
/// <paramref name="UnshareFlags"/> are then created inside it, owned by it.
/// </param>
/// <param name="Cgroup">
/// The cgroup the child starts in, before it runs an instruction of its own: born there where
/// this process can (<see cref="NativeSpawn"/>), moved in right after the spawn otherwise, and,
/// in a user namespace, while it waits to be released.
/// </param>
public sealed record SpawnRequest(
    string ExecutablePath,
    IReadOnlyList<string> Arguments,
    IReadOnlyList<string> Environment,
    IReadOnlyList<int> ChildFds,
    IReadOnlyList<NamespaceJoin>? Join = null,
    int UnshareFlags = 0,
    bool NewSession = false,
    string? TimeOffsets = null,
    bool ReadOnlyExecutable = false,
    UserNamespaceRequest? UserNamespace = null,
    CgroupPlacement? Cgroup = null);

/// <summary>
/// Starts processes with posix_spawn, optionally inside other namespaces. The .NET runtime is
/// multi-threaded, so namespaces are changed on a dedicated OS thread (<see cref="ThrowawayThread"/>)
/// that spawns the child and then ends: setns/unshare affect only the calling thread, and the child inherits them. No
/// managed code runs between clone and execve (glibc's posix_spawn does both in C; so does
/// crioci_spawn, <see cref="NativeSpawn"/>, for a child born in its cgroups).
/// </summary>
public static unsafe class ProcessSpawner
{
    public static int Spawn(SpawnRequest request)
    {
        if (request.UserNamespace is { } userNamespace)
        {
            if (request.Cgroup is { } placement)
            {
                // Inside its user namespace the child can no longer write the host's cgroup files.
                var beforeStart = userNamespace.BeforeStart;
                userNamespace = userNamespace with
                {
                    BeforeStart = pid =>
                    {
                        beforeStart?.Invoke(pid);
                        placement.MoveProcess(pid);
                    },
                };
            }
            return UserNamespaceSpawn.Spawn(request, userNamespace);
        }
        // Opened while this thread still sees the host's /sys/fs/cgroup.
        using var cgroupFiles = request.Cgroup is { } target && NativeSpawn.CanPlace(request) ? NativeSpawn.CgroupFiles.Open(target) : null;
        var needsThread = request.UnshareFlags != 0 || request.Join is { Count: > 0 };
        var pid = -1;
        if (needsThread)
        {
            ThrowawayThread.Run(() =>
            {
                EnterNamespaces(request);
                pid = SpawnOnCurrentThread(request, cgroupFiles);
            });
        }
        else
        {
            pid = SpawnOnCurrentThread(request, cgroupFiles);
        }
        if (cgroupFiles is null && request.Cgroup is { } late)
        {
            MoveIn(pid, late);
        }
        return pid;
    }

    /// <summary>The fallback: the child, spawned where it could not be born in its cgroup, is moved in before it has got far.</summary>
    private static void MoveIn(int pid, CgroupPlacement placement)
    {
        try
        {
            placement.MoveProcess(pid);
        }
        catch
        {
            LibC.kill(pid, Signals.SIGKILL);
            LibC.waitpid(pid, out _, 0);
            throw;
        }
    }

    internal static void EnterNamespaces(SpawnRequest request)
    {
        var joins = request.Join ?? [];
        var touchesMounts = (request.UnshareFlags & LibC.CLONE_NEWNS) != 0
            || joins.Any(j => j.CloneFlag == LibC.CLONE_NEWNS);
        // Open every namespace first (crun's configure_init_status): once we are in a new mount
        // namespace a later path may no longer resolve the same way.
        var fds = new int[joins.Count];
        try
        {
            for (var i = 0; i < joins.Count; i++)
            {
                fds[i] = Errno.Check(LibC.open(joins[i].Path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open namespace", joins[i].Path);
            }
            if (touchesMounts)
            {
                // setns(CLONE_NEWNS) and unshare(CLONE_NEWNS) refuse a thread that shares its
                // filesystem attributes with the rest of the process.
                Errno.Check(LibC.unshare(LibC.CLONE_FS), "unshare", "CLONE_FS");
            }
            for (var i = 0; i < joins.Count; i++)
            {
                Errno.Check(LibC.setns(fds[i], joins[i].CloneFlag), "setns", joins[i].Path);
            }
            if (request.UnshareFlags != 0)
            {
                Errno.Check(LibC.unshare(request.UnshareFlags), "unshare", $"0x{request.UnshareFlags:x}");
            }
            if (request.TimeOffsets is { Length: > 0 } offsets)
            {
                WriteTimeOffsets(offsets);
            }
        }
        finally
        {
            foreach (var fd in fds)
            {
                if (fd > 0)
                {
                    LibC.close(fd);
                }
            }
        }
    }

    /// <summary>
    /// unshare(CLONE_NEWTIME) prepared the namespace for this thread's children only, so the
    /// offsets go through /proc/TID: /proc/self is the main thread, whose file names the
    /// runtime's own time namespace, and /proc/thread-self has no timens_offsets.
    /// </summary>
    private static void WriteTimeOffsets(string offsets)
    {
        var path = $"/proc/{LibC.gettid()}/timens_offsets";
        var fd = Errno.Check(LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0), "open", path);
        try
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(offsets);
            fixed (byte* data = bytes)
            {
                if (LibC.write(fd, data, (nuint)bytes.Length) != bytes.Length)
                {
                    throw new SyscallException(Marshal.GetLastPInvokeError(), "write", path);
                }
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static int SpawnOnCurrentThread(SpawnRequest request, NativeSpawn.CgroupFiles? cgroupFiles)
    {
        if (cgroupFiles is not null)
        {
            return NativeSpawn.Spawn(request, cgroupFiles);
        }
        var fileActions = stackalloc byte[LibC.FileActionsSize];
        var attributes = stackalloc byte[LibC.SpawnAttributesSize];
        var emptySignals = stackalloc byte[LibC.SignalSetSize];
        var allSignals = stackalloc byte[LibC.SignalSetSize];
        LibC.sigemptyset(emptySignals);
        LibC.sigfillset(allSignals);
        LibC.posix_spawn_file_actions_init(fileActions);
        LibC.posix_spawnattr_init(attributes);

        StagedDescriptors? staged = null;
        try
        {
            staged = StagedDescriptors.Stage(request.ChildFds);
            for (var i = 0; i < staged.Fds.Length; i++)
            {
                CheckSpawn(LibC.posix_spawn_file_actions_adddup2(fileActions, staged.Fds[i], i), "posix_spawn_file_actions_adddup2");
            }
            // The .NET runtime ignores SIGPIPE and blocks some signals; a container process must
            // start with default dispositions and an empty mask.
            var flags = (short)(LibC.POSIX_SPAWN_SETSIGDEF | LibC.POSIX_SPAWN_SETSIGMASK);
            if (request.NewSession)
            {
                flags |= LibC.POSIX_SPAWN_SETSID;
            }
            CheckSpawn(LibC.posix_spawnattr_setflags(attributes, flags), "posix_spawnattr_setflags");
            CheckSpawn(LibC.posix_spawnattr_setsigmask(attributes, emptySignals), "posix_spawnattr_setsigmask");
            CheckSpawn(LibC.posix_spawnattr_setsigdefault(attributes, allSignals), "posix_spawnattr_setsigdefault");

            using var argv = new NativeStringArray(request.Arguments);
            using var envp = new NativeStringArray(request.Environment);
            using var readOnly = request.ReadOnlyExecutable ? new ReadOnlyExecutable(request.ExecutablePath) : null;
            var path = NativeString.Allocate(readOnly?.Path ?? request.ExecutablePath);
            try
            {
                var error = LibC.posix_spawn(out var pid, path, fileActions, attributes, argv.Pointer, envp.Pointer);
                if (error != 0)
                {
                    throw new SyscallException(error, "posix_spawn", request.ExecutablePath);
                }
                return pid;
            }
            finally
            {
                NativeMemory.Free(path);
            }
        }
        finally
        {
            staged?.Dispose();
            LibC.posix_spawn_file_actions_destroy(fileActions);
            LibC.posix_spawnattr_destroy(attributes);
        }
    }

    private static void CheckSpawn(int error, string call)
    {
        if (error != 0)
        {
            throw new SyscallException(error, call, null);
        }
    }
}
