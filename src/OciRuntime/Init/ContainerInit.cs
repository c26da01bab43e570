using System.Globalization;
using System.Text.Json;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// `crioci-runtime init`: the first process of a new container. Its parent spawned it inside
/// the container's namespaces; it builds the root file system, applies the process settings,
/// reports ready, waits on the exec fifo until `start`, then becomes the user's process.
/// Inherited descriptors: 0-2 stdio, <see cref="ExecFifoFd"/> the exec fifo (O_PATH),
/// <see cref="SyncFd"/> the pipe to the parent and, with process.terminal,
/// <see cref="ConsoleSocketFd"/> the console socket the pty master is sent over.
/// </summary>
public static class ContainerInit
{
    public const int ExecFifoFd = 3;
    public const int SyncFd = 4;
    public const int ConsoleSocketFd = 5;

    /// <param name="firstIdmapFd">The first of the id-mapped mounts' detached trees (<see cref="Launch.IdmappedMounts"/>), or -1.</param>
    public static int Run(string bundle, string? cgroupPath, string id, bool hasConsoleSocket, int firstIdmapFd = -1)
    {
        InheritedDescriptors.CloseOnExecFrom(3);
        SyncPipe.SetCloseOnExec(SyncFd);
        SyncPipe.SetCloseOnExec(ExecFifoFd);
        if (hasConsoleSocket)
        {
            SyncPipe.SetCloseOnExec(ConsoleSocketFd);
        }
        // Until execve replaces this image, processes of the container must not be able to
        // open /proc/PID/exe and reach the host's crioci-runtime binary (runc CVE-2019-5736).
        LibC.prctl(LibC.PR_SET_DUMPABLE, 0, 0, 0, 0);
        ProcessSpec process;
        string executable;
        IReadOnlyList<HookSpec>? startHooks;
        OciState startState;
        try
        {
            var spec = RuntimeSpecReader.Read(File.ReadAllBytes(Path.Combine(bundle, "config.json")))
                ?? throw new InitException("config.json is empty");
            process = spec.Process ?? throw new InitException("config.json has no process");
            var securityAttributes = Security.ExecSecurityAttributes.ForProcess(process);
            var rootfs = spec.Root?.Path ?? throw new InitException("config.json has no root.path");
            if (!Path.IsPathRooted(rootfs))
            {
                rootfs = Path.GetFullPath(Path.Combine(bundle, rootfs));
            }
            if (spec.Linux?.Seccomp is not null)
            {
                Seccomp.SeccompFilter.Preload();
            }
            if (spec.Linux?.Namespaces?.Any(n => n.Type == "network" && string.IsNullOrEmpty(n.Path)) == true)
            {
                Loopback.BringUp();
            }
            // The state's pid is the host's (runtime-spec "state"): in a new pid namespace this
            // process is 1, but the host's /proc, still mounted until pivot_root, names it as the host does.
            var hostPid = HostPid();
            if (spec.Linux?.Namespaces?.Any(n => n.Type == "cgroup" && string.IsNullOrEmpty(n.Path)) == true)
            {
                EnterNewCgroupNamespace(cgroupPath);
            }
            RootfsSetup.Prepare(spec, rootfs, cgroupPath, firstIdmapFd);
            // In the container's namespaces, before the root changes: the hook's path still
            // resolves in the runtime's file system, as the spec requires.
            Hooks.HookRunner.Run(spec.Hooks?.CreateContainer, "createContainer",
                new OciState(SpecDefaults.OciVersion, id, "created", hostPid, bundle, spec.Annotations));
            RootfsSetup.PivotRoot(rootfs);
            // After every mount, so /dev/ptmx is the container's devpts; before the read-only
            // paths, so /dev/console can still be bound (runc's order).
            if (process.Terminal)
            {
                if (!hasConsoleSocket)
                {
                    throw new InitException("process.terminal is set but no console socket was given");
                }
                TerminalSetup.Attach(ConsoleSocketFd, process.ConsoleSize, mountConsole: true);
            }
            SetHostname(spec);
            ApplySysctls(spec.Linux?.Sysctl);
            RootfsSetup.MaskPaths(spec.Linux?.MaskedPaths, spec.Linux?.MountLabel);
            RootfsSetup.MakeReadonly(spec.Linux?.ReadonlyPaths);
            if (spec.Root.Readonly)
            {
                RootfsSetup.MakeRootReadonly();
            }
            ProcessSetup.ApplyLimits(process);
            ProcessSetup.ChangeDirectory(process);
            startHooks = spec.Hooks?.StartContainer;
            startState = new OciState(SpecDefaults.OciVersion, id, "running", hostPid, bundle, spec.Annotations);
            executable = ProcessSetup.ResolveExecutable(process);
            SchedulingSetup.Apply(process, spec.Linux?.Personality);
            // Before credentials and no_new_privs: with no_new_privs set, an unconfined task may
            // no longer pick an AppArmor profile to change to (runc's order).
            securityAttributes.Apply(process);
            ProcessSetup.ApplyCredentialsAndSeccomp(process, spec.Linux?.Seccomp);
        }
        catch (Exception exception) when (exception is InitException or SyscallException or IOException or JsonException or ArgumentException or UnauthorizedAccessException or Core.CriOciException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            SyncPipe.Send(SyncFd, SyncPipe.Error, exception.Message);
            return 1;
        }
        SyncPipe.Send(SyncFd, SyncPipe.Ready);
        LibC.close(SyncFd);

        // Blocks until `start` opens the fifo for reading (runc's exec.fifo protocol).
        var fifo = Errno.RetryOnInterrupt(() => LibC.open($"/proc/self/fd/{ExecFifoFd}", LibC.O_WRONLY | LibC.O_CLOEXEC, 0), "open", "exec fifo");
        unsafe
        {
            byte zero = (byte)'0';
            LibC.write(fifo, &zero, 1);
        }
        LibC.close(fifo);
        LibC.close(ExecFifoFd);
        try
        {
            Hooks.HookRunner.Run(startHooks, "startContainer", startState);
            ProcessSetup.Exec(executable, process);
        }
        catch (Exception exception) when (exception is SyscallException or Hooks.HookFailedException)
        {
            Console.Error.WriteLine($"crioci-runtime: {exception.Message}");
        }
        return 127;
    }

    private static int HostPid()
    {
        var self = new byte[32];
        var length = LibC.readlinkat(LibC.AT_FDCWD, "/proc/self", self, (nuint)self.Length);
        return length > 0 && int.TryParse(System.Text.Encoding.ASCII.GetString(self, 0, (int)length), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : throw new InitException("cannot read this process's host pid from /proc/self");
    }

    /// <summary>
    /// A new cgroup namespace is rooted at the cgroup its creator is in when it is created, so
    /// the init creates it itself, once in the container's cgroup (runc does the same): created
    /// by the parent, it would be rooted at the runtime's cgroup, and /proc/self/cgroup inside
    /// would show the host's path. Before pivot_root, while the host's cgroup file systems are
    /// still mounted here. Only this thread moves: it is the one that calls execve.
    /// </summary>
    private static void EnterNewCgroupNamespace(string? cgroupPath)
    {
        if (cgroupPath is null)
        {
            throw new InitException("linux.namespaces: a cgroup namespace needs the container's cgroup");
        }
        // "0" is the writer itself: this process's pid namespace may not be the host's. In a
        // user namespace the parent placed it before releasing it, and the host's cgroup files
        // are not writable from here.
        if (!InCgroupAlready(cgroupPath))
        {
            new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).AddProcess(0);
        }
        Errno.Check(LibC.unshare(LibC.CLONE_NEWCGROUP), "unshare", "CLONE_NEWCGROUP");
    }

    /// <summary>Whether every hierarchy of /proc/self/cgroup ("ID:controllers:path") places this process at <paramref name="cgroupPath"/>.</summary>
    private static bool InCgroupAlready(string cgroupPath) =>
        File.ReadLines("/proc/self/cgroup").All(line => line[(line.IndexOf(':', line.IndexOf(':') + 1) + 1)..] == cgroupPath);

    private static void SetHostname(RuntimeSpec spec)
    {
        var hasUts = spec.Linux?.Namespaces?.Any(n => n.Type == "uts") == true;
        if (spec.Hostname is { Length: > 0 } hostname)
        {
            if (!hasUts)
            {
                throw new InitException("hostname is set but the container has no UTS namespace");
            }
            var bytes = System.Text.Encoding.UTF8.GetBytes(hostname);
            Errno.Check(LibC.sethostname(bytes, bytes.Length), "sethostname", hostname);
        }
        if (spec.Domainname is { Length: > 0 } domainname && hasUts)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(domainname);
            Errno.Check(LibC.setdomainname(bytes, bytes.Length), "setdomainname", domainname);
        }
    }

    private static void ApplySysctls(IReadOnlyDictionary<string, string>? sysctls)
    {
        foreach (var (key, value) in sysctls ?? new Dictionary<string, string>())
        {
            if (key.Length == 0 || key.StartsWith('/') || key.Contains("..", StringComparison.Ordinal))
            {
                throw new InitException($"linux.sysctl: invalid key {key}");
            }
            var path = "/proc/sys/" + key.Replace('.', '/');
            try
            {
                File.WriteAllText(path, value.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new InitException($"linux.sysctl {key}={value}: {exception.Message}", exception);
            }
        }
    }
}
