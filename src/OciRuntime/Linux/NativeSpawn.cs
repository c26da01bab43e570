using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Spawns a child that is born in its cgroups (<see cref="SpawnRequest.Cgroup"/>) with the C
/// helper crioci_spawn: posix_spawn's work (descriptors, signals, setsid, execve) after the
/// child has joined each cgroup v1 hierarchy as a single task and been cloned straight into
/// the cgroup2 directory. Moving the process in after the spawn instead write-locks the
/// kernel's global cgroup_threadgroup_rwsem, milliseconds on a busy node (crioci_clone.c).
/// </summary>
internal static unsafe class NativeSpawn
{
    private static readonly Lazy<bool> Linked = new(() =>
    {
        try
        {
            return LibC.crioci_spawn_available() == 1;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    });

    /// <summary>
    /// Whether <paramref name="request"/> can be born in its cgroups from this process: the
    /// helper is linked in (NativeAOT executables, not a JIT-hosted test host), and the child
    /// joins no cgroup namespace, since the kernel accepts a CLONE_INTO_CGROUP target only
    /// inside the cgroup namespace of the cloning thread.
    /// </summary>
    public static bool CanPlace(SpawnRequest request) =>
        Linked.Value && request.Join?.Any(j => j.CloneFlag == LibC.CLONE_NEWCGROUP) != true;

    /// <summary>
    /// A placement's files, opened from the host's /sys/fs/cgroup before the spawning thread
    /// enters the child's mount namespace: each v1 hierarchy's tasks file and the cgroup2 directory.
    /// </summary>
    public sealed class CgroupFiles : IDisposable
    {
        private CgroupFiles(int[] taskFds) => TaskFds = taskFds;

        public int[] TaskFds { get; }

        public int Cgroup2Fd { get; private set; } = -1;

        public static CgroupFiles Open(CgroupPlacement placement)
        {
            var files = new CgroupFiles(new int[placement.V1Directories.Count]);
            Array.Fill(files.TaskFds, -1);
            try
            {
                for (var i = 0; i < files.TaskFds.Length; i++)
                {
                    var tasks = Path.Combine(placement.V1Directories[i], "tasks");
                    files.TaskFds[i] = Errno.Check(LibC.open(tasks, LibC.O_WRONLY | LibC.O_CLOEXEC, 0), "open", tasks);
                }
                if (placement.V2Directory is { } directory)
                {
                    files.Cgroup2Fd = Errno.Check(LibC.open(directory, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", directory);
                }
                return files;
            }
            catch
            {
                files.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            for (var i = 0; i < TaskFds.Length; i++)
            {
                if (TaskFds[i] >= 0)
                {
                    LibC.close(TaskFds[i]);
                    TaskFds[i] = -1;
                }
            }
            if (Cgroup2Fd >= 0)
            {
                LibC.close(Cgroup2Fd);
                Cgroup2Fd = -1;
            }
        }
    }

    /// <summary>Spawns on the calling thread, in its namespaces; returns the pid once the child has exec'd.</summary>
    public static int Spawn(SpawnRequest request, CgroupFiles cgroup)
    {
        using var staged = StagedDescriptors.Stage(request.ChildFds);
        using var argv = new NativeStringArray(request.Arguments);
        using var envp = new NativeStringArray(request.Environment);
        using var readOnly = request.ReadOnlyExecutable ? new ReadOnlyExecutable(request.ExecutablePath) : null;
        var path = NativeString.Allocate(readOnly?.Path ?? request.ExecutablePath);
        try
        {
            fixed (int* fds = staged.Fds)
            fixed (int* taskFds = cgroup.TaskFds)
            {
                var native = new LibC.CgroupSpawnRequest
                {
                    Path = path,
                    Argv = argv.Pointer,
                    Envp = envp.Pointer,
                    Fds = fds,
                    FdCount = staged.Fds.Length,
                    NewSession = request.NewSession ? 1 : 0,
                    CgroupTaskFds = taskFds,
                    CgroupTaskFdCount = cgroup.TaskFds.Length,
                    Cgroup2Fd = cgroup.Cgroup2Fd,
                };
                var pid = LibC.crioci_spawn(&native);
                if (pid < 0)
                {
                    var error = native.Error != 0 ? native.Error : Marshal.GetLastPInvokeError();
                    throw new SyscallException(error, LibC.CgroupSpawnStep(native.FailedStep), request.ExecutablePath);
                }
                return pid;
            }
        }
        finally
        {
            NativeMemory.Free(path);
        }
    }
}
