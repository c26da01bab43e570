using System.Text.Json;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <summary>The standard streams a container's init gets (descriptors owned by the caller).</summary>
/// <param name="ConsoleSocket">
/// With process.terminal, a connected unix socket over which the init sends the pty master
/// (runc's console socket); -1 otherwise. The streams are then replaced by the terminal.
/// </param>
public sealed record InitStdio(int Stdin, int Stdout, int Stderr, int ConsoleSocket = -1)
{
    /// <summary>The init's inherited descriptors: stdio, the two given, and the console socket when there is one.</summary>
    internal List<int> ChildFds(int fd3, int fd4)
    {
        List<int> fds = [Stdin, Stdout, Stderr, fd3, fd4];
        if (ConsoleSocket >= 0)
        {
            fds.Add(ConsoleSocket);
        }
        return fds;
    }

    /// <summary>runc's rule: a terminal needs a console socket, and a console socket is only for a terminal.</summary>
    internal void CheckTerminal(bool terminal)
    {
        if (terminal && ConsoleSocket < 0)
        {
            throw new Core.InvalidArgumentException("process.terminal is set but there is no console socket to send the terminal to");
        }
        if (!terminal && ConsoleSocket >= 0)
        {
            throw new Core.InvalidArgumentException("a console socket was given but process.terminal is not set");
        }
    }
}

/// <summary>
/// The OCI "create" operation: spawns `crioci-runtime init` inside the container's namespaces,
/// waits for it to report that the container is set up, and records state.json. The init is
/// the caller's child: the monitor (or runc's caller, for the CLI) reaps it.
/// </summary>
public static class ContainerLauncher
{
    private static readonly (string Type, int Flag)[] NamespaceFlags =
    [
        ("user", LibC.CLONE_NEWUSER),
        ("ipc", LibC.CLONE_NEWIPC),
        ("uts", LibC.CLONE_NEWUTS),
        ("network", LibC.CLONE_NEWNET),
        ("pid", LibC.CLONE_NEWPID),
        ("cgroup", LibC.CLONE_NEWCGROUP),
        ("time", LibC.CLONE_NEWTIME),
        ("mount", LibC.CLONE_NEWNS),
    ];

    /// <param name="spec">The bundle's config.json (<see cref="LoadSpec"/>), which every caller reads first for process.terminal.</param>
    /// <param name="monitored">True when the caller is the container's monitor, which stays to reap the init and write exit.json.</param>
    public static ContainerStateFile Create(string stateRoot, string id, string bundle, RuntimeSpec spec, InitStdio stdio, string runtimeExecutable, bool monitored = false)
    {
        ContainerId.Validate(id);
        bundle = Path.GetFullPath(bundle);
        // Before anything exists to clean up: a profile or label this host cannot apply.
        Security.HostSecurityModules.CheckSpecOnThisHost(spec);
        var userNamespace = UserNamespaceConfig.FromSpec(spec);
        IdmappedMounts.Validate(spec);
        var state = new StateDirectory(stateRoot, id);
        if (state.Exists)
        {
            throw new Core.AlreadyExistsException($"container {id} already exists");
        }
        Directory.CreateDirectory(state.Path);
        var created = false;
        try
        {
            var result = SpawnInit(spec, userNamespace, state, bundle, stdio, runtimeExecutable, monitored);
            created = true;
            return result;
        }
        finally
        {
            if (!created)
            {
                Directory.Delete(state.Path, recursive: true);
            }
        }
    }

    public static RuntimeSpec LoadSpec(string bundle)
    {
        var path = Path.Combine(bundle, "config.json");
        try
        {
            return RuntimeSpecReader.Read(File.ReadAllBytes(path))
                ?? throw new Core.InvalidArgumentException($"{path} is empty");
        }
        catch (JsonException exception)
        {
            throw new Core.InvalidArgumentException($"{path}: {exception.Message}");
        }
        catch (FileNotFoundException)
        {
            throw new Core.NotFoundException($"bundle {bundle} has no config.json");
        }
    }

    private static unsafe ContainerStateFile SpawnInit(RuntimeSpec spec, UserNamespaceRequest? userNamespace, StateDirectory state, string bundle, InitStdio stdio, string runtimeExecutable, bool monitored)
    {
        stdio.CheckTerminal(spec.Process?.Terminal == true);
        var (joins, unshareFlags) = Namespaces(spec);
        // The init creates its cgroup namespace itself, once it is in the container's cgroup.
        unshareFlags &= ~LibC.CLONE_NEWCGROUP;
        if (spec.Linux?.Seccomp is { } seccomp)
        {
            // Refuse a bad profile here, with a clear error, rather than from inside the init.
            Seccomp.SeccompFilter.Validate(seccomp);
        }
        // The user namespace is made (or joined) by the spawn itself, before the others.
        joins = joins.Where(j => j.CloneFlag != LibC.CLONE_NEWUSER).ToList();
        unshareFlags &= ~LibC.CLONE_NEWUSER;
        using var idmapped = IdmappedMounts.Open(spec);
        // A FIFO only root may open for reading: `start` opens it, the init writes to it.
        // Owned by the container's root as the host knows it (runc's rule): an init in a user
        // namespace must be able to open it for writing, and the host's root is no one there.
        Errno.Check(LibC.mkfifo(state.ExecFifo, 0x192 /* 0622 */), "mkfifo", state.ExecFifo);
        (uint Uid, uint Gid)? fifoOwner = userNamespace is null ? (0, 0) : userNamespace.RootOnHost();
        Errno.Check(LibC.fchownat(LibC.AT_FDCWD, state.ExecFifo, fifoOwner?.Uid ?? 0, fifoOwner?.Gid ?? 0, 0), "chown", state.ExecFifo);
        // Back to the mode mkfifo's umask narrowed: the init opens the fifo after switching to
        // process.user, and in a joined namespace whose root we cannot name it is no one we know,
        // so it writes as "other". Writing grants nothing; reading (`start`) stays root's.
        Errno.Check(LibC.fchmodat(LibC.AT_FDCWD, state.ExecFifo, 0x192 /* 0622 */, 0), "chmod", state.ExecFifo);
        var fifo = Errno.Check(LibC.open(state.ExecFifo, LibC.O_PATH | LibC.O_CLOEXEC, 0), "open", state.ExecFifo);
        var pipe = stackalloc int[2];
        Errno.Check(LibC.pipe2(pipe, LibC.O_CLOEXEC), "pipe2", "sync");
        // The cgroup exists before the init does, so the init's own cgroup mount finds it;
        // the init starts in it (SpawnRequest.Cgroup), long before the container's program.
        var cgroup = new CgroupManager(CgroupHierarchy.Detect(), CgroupManager.PathFor(spec, state.Id));
        int pid;
        try
        {
            cgroup.Create(spec.Linux?.Resources);
        }
        catch
        {
            LibC.close(pipe[0]);
            LibC.close(pipe[1]);
            LibC.close(fifo);
            cgroup.Destroy();
            throw;
        }
        try
        {
            List<string> arguments = [runtimeExecutable, "init", "--cgroup", cgroup.CgroupPath, "--id", state.Id];
            if (stdio.ConsoleSocket >= 0)
            {
                arguments.Add("--console-socket-fd");
            }
            var childFds = stdio.ChildFds(fifo, pipe[1]);
            if (idmapped.TreeFds.Count > 0)
            {
                arguments.AddRange(["--idmap-fds-from", childFds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                childFds.AddRange(idmapped.TreeFds);
            }
            arguments.Add(bundle);
            pid = ProcessSpawner.Spawn(new SpawnRequest(
                runtimeExecutable,
                arguments,
                ["PATH=" + SpecDefaults.DefaultPath],
                childFds,
                joins,
                unshareFlags,
                TimeOffsets: TimeOffsets(spec, unshareFlags),
                ReadOnlyExecutable: true,
                UserNamespace: userNamespace,
                Cgroup: cgroup.Placement));
        }
        catch (Exception exception)
        {
            LibC.close(pipe[0]);
            cgroup.Destroy();
            // The cgroup refused the init, whether it was born there (a v1 tasks write in the
            // child, e.g. an empty cpuset) or moved after the spawn where it could not be.
            if (exception is IOException or SyscallException { Call: "join the cgroup" })
            {
                throw new ContainerCannotRunException($"join cgroup {cgroup.CgroupPath}: {exception.Message}");
            }
            throw;
        }
        finally
        {
            LibC.close(pipe[1]);
            LibC.close(fifo);
        }
        string? report;
        try
        {
            report = SyncPipe.ReadAll(pipe[0]);
        }
        finally
        {
            LibC.close(pipe[0]);
        }
        if (report != SyncPipe.Ready)
        {
            LibC.kill(pid, 9);
            LibC.waitpid(pid, out _, 0);
            cgroup.Destroy();
            throw new ContainerCannotRunException(SyncPipe.ErrorText(report ?? "container init exited without a report"));
        }
        try
        {
            // Run in the runtime's namespaces once the container's exist (prestart is the
            // deprecated name of the same point); a failure destroys the container.
            var creating = new OciState(SpecDefaults.OciVersion, state.Id, "creating", pid, bundle, spec.Annotations);
            Hooks.HookRunner.Run(spec.Hooks?.Prestart, "prestart", creating);
            Hooks.HookRunner.Run(spec.Hooks?.CreateRuntime, "createRuntime", creating);
        }
        catch (Hooks.HookFailedException)
        {
            LibC.kill(pid, 9);
            LibC.waitpid(pid, out _, 0);
            cgroup.Destroy();
            throw;
        }
        var self = Environment.ProcessId;
        var stateFile = new ContainerStateFile(state.Id, bundle, pid, ProcStat.StartTime(pid) ?? 0, DateTimeOffset.UtcNow, spec.Annotations,
            MonitorPid: monitored ? self : 0, MonitorStartTime: monitored ? ProcStat.StartTime(self) ?? 0 : 0,
            CgroupPath: cgroup.CgroupPath);
        state.WriteState(stateFile);
        return stateFile;
    }

    /// <summary>Namespaces to join by path, and the CLONE_NEW* flags of those to create.</summary>
    public static (IReadOnlyList<NamespaceJoin> Joins, int UnshareFlags) Namespaces(RuntimeSpec spec)
    {
        var joins = new List<NamespaceJoin>();
        var flags = 0;
        foreach (var ns in spec.Linux?.Namespaces ?? [])
        {
            // JSON null elements deserialize as null whatever the element type says.
            if (ns is null)
            {
                throw new Core.InvalidArgumentException("linux.namespaces: an entry is null");
            }
            var flag = NamespaceFlags.FirstOrDefault(n => n.Type == ns.Type).Flag;
            if (flag == 0)
            {
                throw new Core.InvalidArgumentException($"linux.namespaces: unknown type {ns.Type}");
            }
            if (string.IsNullOrEmpty(ns.Path))
            {
                flags |= flag;
            }
            else
            {
                joins.Add(new NamespaceJoin(flag, ns.Path));
            }
        }
        // Join in the order runc uses: user first, mount last (a later path may live in it).
        joins.Sort((a, b) => Order(a.CloneFlag).CompareTo(Order(b.CloneFlag)));
        return (joins, flags);
    }

    /// <summary>linux.timeOffsets as timens_offsets lines; only for a time namespace this container creates.</summary>
    public static string? TimeOffsets(RuntimeSpec spec, int unshareFlags)
    {
        if (spec.Linux?.TimeOffsets is not { Count: > 0 } offsets)
        {
            return null;
        }
        if ((unshareFlags & LibC.CLONE_NEWTIME) == 0)
        {
            throw new Core.InvalidArgumentException("linux.timeOffsets needs a new time namespace (linux.namespaces: {\"type\": \"time\"} without a path)");
        }
        var lines = new System.Text.StringBuilder();
        foreach (var (clock, offset) in offsets)
        {
            if (clock is not ("monotonic" or "boottime"))
            {
                throw new Core.InvalidArgumentException($"linux.timeOffsets: unknown clock {clock} (monotonic or boottime)");
            }
            if (offset.Nanosecs >= 1_000_000_000)
            {
                throw new Core.InvalidArgumentException($"linux.timeOffsets.{clock}.nanosecs: {offset.Nanosecs} is not below one second");
            }
            lines.Append(System.Globalization.CultureInfo.InvariantCulture, $"{clock} {offset.Secs} {offset.Nanosecs}\n");
        }
        return lines.ToString();
    }

    private static int Order(int flag) => Array.FindIndex(NamespaceFlags, n => n.Flag == flag);
}

/// <summary>The container could not be set up or its process could not be started (CRI reason ContainerCannotRun).</summary>
public sealed class ContainerCannotRunException(string message) : Core.CriOciException(message);
