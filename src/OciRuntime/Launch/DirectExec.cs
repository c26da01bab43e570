using System.Runtime.InteropServices;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// An exec into a running container without `crioci-runtime exec-init` in between: that
/// process's NativeAOT start was most of an ExecSync's time. A dedicated thread of this process
/// joins the container's namespaces, mount namespace included (its own filesystem attributes
/// unshared first), changes to process.cwd and finds the executable inside the container's root
/// there, then the C helper crioci_exec_spawn clones the process into the container's cgroup2
/// directory, and the process joins each v1 hierarchy's cgroup as a single task (neither takes
/// the kernel's global lock a cgroup.procs write takes: crioci_clone.c), applies limits, credentials, capabilities, no_new_privs and a seccomp program compiled once
/// per container (<see cref="ExecSeccompProgram"/>), and execs. The thread ends afterwards, so
/// the namespaces it entered go with it.
/// What this path does not do goes to exec-init (<see cref="CanRun"/>): a terminal, AppArmor or
/// SELinux attributes, scheduling, I/O priority, oom_score_adj and personality settings, and
/// containers in their own user or time namespace (joining either needs a single-threaded caller).
/// </summary>
public static unsafe class DirectExec
{
    /// <summary>ContainerExec's, then the mount namespace, which exec-init enters itself and the direct exec's thread enters here.</summary>
    private static readonly (string Name, int Flag)[] JoinedNamespaces = [.. ContainerExec.JoinedNamespaces, ("mnt", LibC.CLONE_NEWNS)];

    private static readonly Lazy<bool> NativeHelperLinked = new(() =>
    {
        try
        {
            return LibC.crioci_exec_spawn_available() == 1;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    });

    /// <summary>This process's bounding set and the kernel's last capability: read once, from the host's /proc.</summary>
    private static readonly Lazy<(ulong Held, int LastCap)> HostCapabilities =
        new(() => (Capabilities.BoundingSet(), Capabilities.LastCapability()));

    /// <summary>Whether <paramref name="process"/> can start this way; otherwise exec-init starts it.</summary>
    public static bool CanRun(ProcessSpec process, LinuxSpec? containerLinux, int initPid) =>
        NativeHelperLinked.Value
        && !process.Terminal
        && string.IsNullOrEmpty(process.ApparmorProfile)
        && string.IsNullOrEmpty(process.SelinuxLabel)
        && process.Scheduler is null
        && process.IoPriority is null
        && process.OomScoreAdj is null
        && containerLinux?.Personality is null
        && SameNamespace(initPid, "user")
        && SameNamespace(initPid, "time");

    /// <summary>
    /// Starts <paramref name="process"/> in the container of <paramref name="initPid"/> with the
    /// given standard streams and returns its pid once it has exec'd. Failures before execve
    /// throw <see cref="InitException"/> or <see cref="SyscallException"/> naming the step.
    /// </summary>
    public static int Start(ProcessSpec process, int initPid, string? cgroupPath, ExecSeccompProgram? seccomp, InitStdio stdio)
    {
        // The host's /proc and /sys/fs/cgroup: read and opened before the thread leaves them.
        var (held, lastCap) = HostCapabilities.Value;
        NativeSpawn.CgroupFiles? cgroupFiles = null;
        var namespaceFds = new List<(int Fd, int Flag)>();
        try
        {
            foreach (var (name, flag) in JoinedNamespaces)
            {
                if (!SameNamespace(initPid, name))
                {
                    var path = $"/proc/{initPid}/ns/{name}";
                    namespaceFds.Add((Errno.Check(LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", path), flag));
                }
            }
            if (cgroupPath is not null)
            {
                cgroupFiles = NativeSpawn.CgroupFiles.Open(new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).Placement);
            }
            var pid = 0;
            ThrowawayThread.Run(() => pid = SpawnInContainer(process, namespaceFds, cgroupFiles, seccomp, stdio, held, lastCap));
            return pid;
        }
        finally
        {
            foreach (var (fd, _) in namespaceFds)
            {
                LibC.close(fd);
            }
            cgroupFiles?.Dispose();
        }
    }

    /// <summary>On the dedicated thread: never reused, since it ends up inside the container.</summary>
    private static int SpawnInContainer(ProcessSpec process, List<(int Fd, int Flag)> namespaceFds, NativeSpawn.CgroupFiles? cgroupFiles,
        ExecSeccompProgram? seccomp, InitStdio stdio, ulong held, int lastCap)
    {
        // setns(CLONE_NEWNS) refuses a thread that shares its root and cwd with others.
        Errno.Check(LibC.unshare(LibC.CLONE_FS), "unshare", "CLONE_FS");
        // The process enters the cgroup namespace itself, once it is in its cgroups: cloned into
        // a cgroup from inside the container's namespace, it would be refused where cgroup2 is
        // mounted with nsdelegate (the runtime's own cgroup is outside that namespace).
        var cgroupNamespace = -1;
        foreach (var (fd, flag) in namespaceFds)
        {
            if (flag == LibC.CLONE_NEWCGROUP)
            {
                cgroupNamespace = fd;
                continue;
            }
            Errno.Check(LibC.setns(fd, flag), "setns", $"0x{flag:x}");
        }
        // From here on paths resolve inside the container's root, as they will for the process.
        ProcessSetup.ChangeDirectory(process);
        var executable = ProcessSetup.ResolveExecutable(process);
        var caps = process.Capabilities;
        var rlimits = (process.Rlimits ?? []).Select(r => new LibC.ExecSpawnRlimit
        {
            Resource = ProcessSetup.RlimitResource(r.Type),
            Soft = r.Soft,
            Hard = r.Hard,
        }).ToArray();
        var groups = (process.User.AdditionalGids ?? []).ToArray();
        StagedDescriptors? staged = null;
        var (reportRead, reportWrite) = ContainerRuntime.CreatePipe();
        try
        {
            staged = StagedDescriptors.Stage([stdio.Stdin, stdio.Stdout, stdio.Stderr]);
            var cgroups = cgroupFiles?.TaskFds ?? [];
            var filter = seccomp?.Program ?? [];
            using var argv = new NativeStringArray(process.Args ?? []);
            using var envp = new NativeStringArray(process.Env ?? []);
            var path = NativeString.Allocate(executable);
            try
            {
                fixed (int* fds = staged.Fds)
                fixed (int* cgroupFdArray = cgroups)
                fixed (LibC.ExecSpawnRlimit* rlimitArray = rlimits)
                fixed (uint* groupArray = groups)
                fixed (byte* program = filter)
                {
                    var request = new LibC.ExecSpawnRequest
                    {
                        Path = path,
                        Argv = argv.Pointer,
                        Envp = envp.Pointer,
                        Fds = fds,
                        FdCount = staged.Fds.Length,
                        ReportFd = reportWrite,
                        CgroupFds = cgroupFdArray,
                        CgroupFdCount = cgroups.Length,
                        Rlimits = rlimitArray,
                        RlimitCount = rlimits.Length,
                        Groups = groupArray,
                        GroupCount = groups.Length,
                        Uid = process.User.Uid,
                        Gid = process.User.Gid,
                        Umask = process.User.Umask is { } umask ? (int)umask : -1,
                        LastCap = lastCap,
                        NoNewPrivs = process.NoNewPrivileges ? 1 : 0,
                        // The host may withhold capabilities even from root: ask only for held ones.
                        Held = held,
                        Bounding = Capabilities.Mask(caps?.Bounding) & held,
                        Effective = Capabilities.Mask(caps?.Effective) & held,
                        Permitted = Capabilities.Mask(caps?.Permitted) & held,
                        Inheritable = Capabilities.Mask(caps?.Inheritable) & held,
                        Ambient = Capabilities.Mask(caps?.Ambient) & held,
                        SeccompFilter = seccomp is null ? null : program,
                        SeccompLength = filter.Length / ExecSeccompProgram.InstructionSize,
                        SeccompFlags = seccomp?.Flags ?? 0,
                        Cgroup2Fd = cgroupFiles?.Cgroup2Fd ?? -1,
                        CgroupNamespaceFd = cgroupNamespace,
                    };
                    var pid = LibC.crioci_exec_spawn(&request);
                    if (pid < 0)
                    {
                        throw new SyscallException(Marshal.GetLastPInvokeError(), "clone", executable);
                    }
                    LibC.close(reportWrite);
                    reportWrite = -1;
                    ReadReport(reportRead, pid, executable);
                    return pid;
                }
            }
            finally
            {
                NativeMemory.Free(path);
            }
        }
        finally
        {
            staged?.Dispose();
            LibC.close(reportRead);
            if (reportWrite >= 0)
            {
                LibC.close(reportWrite);
            }
        }
    }

    /// <summary>
    /// The child has exec'd or exited by now (CLONE_VFORK): end-of-file means execve succeeded;
    /// a record names the step that failed, and the child, which exited 127, is reaped here.
    /// </summary>
    private static void ReadReport(int reportRead, int pid, string executable)
    {
        LibC.ExecSpawnReport report;
        nint got;
        do
        {
            got = LibC.read(reportRead, (byte*)&report, (nuint)sizeof(LibC.ExecSpawnReport));
        }
        while (got < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR);
        if (got == 0)
        {
            return;
        }
        LibC.waitpid(pid, out _, 0);
        if (got != sizeof(LibC.ExecSpawnReport))
        {
            throw new InitException($"exec {executable}: the process ended before execve without saying why");
        }
        var step = LibC.ExecSpawnStep(report.Step);
        throw report.Step == 13
            ? new InitException($"exec {executable}: {Errno.Describe(report.Error)}")
            : new InitException($"{step}: {Errno.Describe(report.Error)}");
    }

    private static bool SameNamespace(int initPid, string name) =>
        ContainerExec.SameNamespace($"/proc/{initPid}/ns/{name}", $"/proc/self/ns/{name}");
}
