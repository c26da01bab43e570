using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Starts a process in a new or joined user namespace. The kernel lets only a single-threaded
/// process call unshare(CLONE_NEWUSER) or setns() into a user namespace, and this process (and
/// any NativeAOT one: finalizer and GC threads exist before Main) has several, so the namespace
/// is made at clone time by the C helper crioci_userns_spawn, as runc's nsexec does:
/// <list type="number">
/// <item>on a dedicated thread, join the other namespaces given by path (with the host's
/// privileges) and create a time namespace, then clone: with a new user namespace, clone
/// itself creates it and the other new namespaces, which the kernel makes owned by it;</item>
/// <item>while the child waits on a pipe, write its uid_map (setgroups "deny" first when this
/// runtime is not root, as runc does rootless) and gid_map, and run the caller's host-side step;</item>
/// <item>release it: it becomes root of the namespace (so execve keeps its capabilities),
/// creates the namespaces a joined user namespace must own, and execs.</item>
/// </list>
/// </summary>
public static unsafe class UserNamespaceSpawn
{
    private sealed record Child(int Pid, int ReleaseWrite, int ReportRead);

    public static int Spawn(SpawnRequest request, UserNamespaceRequest userNamespace)
    {
        var created = request.UnshareFlags & ~(LibC.CLONE_NEWUSER | LibC.CLONE_NEWTIME);
        var joining = userNamespace.JoinPath is not null;
        // A new time namespace stays the thread's job (legacy clone has no flag for it and its
        // offsets must be written before its first process): it is owned by the host's user namespace.
        var threadPart = request with { UnshareFlags = request.UnshareFlags & LibC.CLONE_NEWTIME, UserNamespace = null };
        Child? child = null;
        ThrowawayThread.Run(() =>
        {
            ProcessSpawner.EnterNamespaces(threadPart);
            child = Clone(request, userNamespace.JoinPath,
                cloneFlags: joining ? 0 : LibC.CLONE_NEWUSER | created,
                unshareFlags: joining ? created : 0);
        });
        return Release(child!, userNamespace, request.ExecutablePath);
    }

    /// <summary>
    /// A descriptor of a new user namespace with these maps and no process in it, for
    /// mount_setattr(MOUNT_ATTR_IDMAP): see <see cref="HoldNamespaces"/>.
    /// </summary>
    public static int OpenUserNamespace(IReadOnlyList<IdRange> uidMappings, IReadOnlyList<IdRange> gidMappings)
    {
        var fd = -1;
        HoldNamespaces(uidMappings, gidMappings, 0, pid =>
        {
            var path = $"/proc/{pid}/ns/user";
            fd = Errno.Check(LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", path);
        });
        return fd;
    }

    /// <summary>
    /// Makes a new user namespace with these maps, and the namespaces of <paramref name="ownedFlags"/>
    /// owned by it, held by a child cloned into them that never runs anything of its own;
    /// <paramref name="withHolder"/> gets its pid (to open or bind-mount /proc/PID/ns/*), then the
    /// child is killed and reaped. A pod's namespaces are made this way: created by one clone,
    /// the kernel makes them owned by the new user namespace.
    /// </summary>
    public static void HoldNamespaces(IReadOnlyList<IdRange> uidMappings, IReadOnlyList<IdRange> gidMappings, int ownedFlags, Action<int> withHolder)
    {
        // The child only waits on its release pipe; nothing is ever exec'd.
        var holder = new SpawnRequest("/nonexistent", ["crioci-userns-holder"], [], []);
        var child = Clone(holder, joinPath: null, cloneFlags: LibC.CLONE_NEWUSER | ownedFlags, unshareFlags: 0);
        try
        {
            WriteMaps(child.Pid, new UserNamespaceRequest(null, uidMappings, gidMappings));
            withHolder(child.Pid);
        }
        finally
        {
            LibC.kill(child.Pid, Signals.SIGKILL);
            LibC.waitpid(child.Pid, out _, 0);
            LibC.close(child.ReleaseWrite);
            LibC.close(child.ReportRead);
        }
    }

    private static Child Clone(SpawnRequest request, string? joinPath, int cloneFlags, int unshareFlags)
    {
        var userNsFd = -1;
        var release = stackalloc int[2] { -1, -1 };
        var report = stackalloc int[2] { -1, -1 };
        StagedDescriptors? staged = null;
        var handedOver = false;
        try
        {
            if (joinPath is not null)
            {
                userNsFd = Errno.Check(LibC.open(joinPath, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open user namespace", joinPath);
            }
            Errno.Check(LibC.pipe2(release, LibC.O_CLOEXEC), "pipe2", "user namespace release");
            Errno.Check(LibC.pipe2(report, LibC.O_CLOEXEC), "pipe2", "user namespace report");
            staged = StagedDescriptors.Stage(request.ChildFds);
            using var argv = new NativeStringArray(request.Arguments);
            using var envp = new NativeStringArray(request.Environment);
            using var readOnly = request.ReadOnlyExecutable ? new ReadOnlyExecutable(request.ExecutablePath) : null;
            var path = NativeString.Allocate(readOnly?.Path ?? request.ExecutablePath);
            try
            {
                fixed (int* fds = staged.Fds)
                {
                    var native = new LibC.UserNamespaceSpawnRequest
                    {
                        Path = path,
                        Argv = argv.Pointer,
                        Envp = envp.Pointer,
                        Fds = fds,
                        FdCount = staged.Fds.Length,
                        CloneFlags = cloneFlags,
                        UnshareFlags = unshareFlags,
                        UserNamespaceFd = userNsFd,
                        ReleaseFd = release[0],
                        ReleaseParentFd = release[1],
                        ReportFd = report[1],
                        NewSession = request.NewSession ? 1 : 0,
                    };
                    var pid = LibC.crioci_userns_spawn(&native);
                    if (pid < 0)
                    {
                        throw new SyscallException(Marshal.GetLastPInvokeError(), "clone", $"0x{cloneFlags:x} for {request.ExecutablePath}");
                    }
                    handedOver = true;
                    return new Child(pid, release[1], report[0]);
                }
            }
            finally
            {
                NativeMemory.Free(path);
            }
        }
        finally
        {
            // The child has its own copies; the parent keeps only its ends of the two pipes.
            staged?.Dispose();
            CloseIfOpen(userNsFd);
            CloseIfOpen(release[0]);
            CloseIfOpen(report[1]);
            if (!handedOver)
            {
                CloseIfOpen(release[1]);
                CloseIfOpen(report[0]);
            }
        }
    }

    private static int Release(Child child, UserNamespaceRequest userNamespace, string executable)
    {
        var releaseWrite = child.ReleaseWrite;
        List<LibC.UserNamespaceSpawnReport> reports;
        try
        {
            if (userNamespace.JoinPath is null)
            {
                WriteMaps(child.Pid, userNamespace);
            }
            userNamespace.BeforeStart?.Invoke(child.Pid);
            byte go = 1;
            if (LibC.write(releaseWrite, &go, 1) != 1)
            {
                throw new SyscallException(Marshal.GetLastPInvokeError(), "write", "user namespace release");
            }
            LibC.close(releaseWrite);
            releaseWrite = -1;
            reports = ReadReports(child.ReportRead);
        }
        catch
        {
            LibC.kill(child.Pid, Signals.SIGKILL);
            LibC.waitpid(child.Pid, out _, 0);
            throw;
        }
        finally
        {
            CloseIfOpen(releaseWrite);
            LibC.close(child.ReportRead);
        }
        var started = reports.FirstOrDefault(r => r.Kind == LibC.ReportPid);
        var failed = reports.FirstOrDefault(r => r.Kind != LibC.ReportPid);
        if (started.Kind == LibC.ReportPid)
        {
            // The first child only made the pid namespace and the one that execs in it; it is done.
            LibC.waitpid(child.Pid, out _, 0);
        }
        if (failed.Kind != 0)
        {
            LibC.waitpid(started.Kind == LibC.ReportPid ? started.Value : child.Pid, out _, 0);
            throw new SyscallException(failed.Value, LibC.UserNamespaceSpawnStep(failed.Kind), executable);
        }
        return started.Kind == LibC.ReportPid ? started.Value : child.Pid;
    }

    /// <summary>
    /// The maps, each in one write as the kernel requires. A runtime that is not root may only
    /// map its own gid, and only once setgroups is denied (user_namespaces(7)); runc writes
    /// "deny" in that case only, so a root runtime's containers can still set their groups.
    /// </summary>
    private static void WriteMaps(int pid, UserNamespaceRequest userNamespace)
    {
        WriteProcFile(pid, "uid_map", UserNamespaceRequest.MapText(userNamespace.UidMappings));
        if (LibC.geteuid() != 0)
        {
            WriteProcFile(pid, "setgroups", "deny");
        }
        WriteProcFile(pid, "gid_map", UserNamespaceRequest.MapText(userNamespace.GidMappings));
    }

    private static void WriteProcFile(int pid, string name, string text)
    {
        var path = $"/proc/{pid}/{name}";
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        var fd = Errno.Check(LibC.open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0), "open", path);
        try
        {
            fixed (byte* data = bytes)
            {
                if (LibC.write(fd, data, (nuint)bytes.Length) != bytes.Length)
                {
                    throw new SyscallException(Marshal.GetLastPInvokeError(), "write", $"{path} ({text.Trim().ReplaceLineEndings(", ")})");
                }
            }
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>Every record until end-of-file, which comes once each holder of the write end has exec'd or exited.</summary>
    private static List<LibC.UserNamespaceSpawnReport> ReadReports(int fd)
    {
        var reports = new List<LibC.UserNamespaceSpawnReport>();
        LibC.UserNamespaceSpawnReport record;
        var size = sizeof(LibC.UserNamespaceSpawnReport);
        while (true)
        {
            var read = LibC.read(fd, (byte*)&record, (nuint)size);
            if (read < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
                continue;
            }
            Errno.Check(read, "read", "user namespace report");
            if (read == 0)
            {
                return reports;
            }
            // Records are 8 bytes, written whole: a pipe never splits writes below PIPE_BUF.
            if (read == size)
            {
                reports.Add(record);
            }
        }
    }

    private static void CloseIfOpen(int fd)
    {
        if (fd >= 0)
        {
            LibC.close(fd);
        }
    }
}
