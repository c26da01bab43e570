using System.Text.Json;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// `crioci-runtime exec-init`: starts an extra process in a running container. Its parent
/// spawned it already inside the container's pid, ipc, uts and network namespaces; the mount
/// namespace is entered here, because the parent must still find this executable on the host,
/// and the time namespace before Main (<see cref="TimeNamespaceJoin"/>).
/// Inherited descriptors: 0-2 stdio, <see cref="MountNamespaceFd"/>, <see cref="SyncFd"/> and,
/// with process.terminal, <see cref="ConsoleSocketFd"/>.
/// </summary>
public static class ExecInit
{
    public const int MountNamespaceFd = 3;
    public const int SyncFd = 4;
    public const int ConsoleSocketFd = 5;

    public static int Run(string processFile, string? cgroupPath, string? bundle, bool hasConsoleSocket)
    {
        InheritedDescriptors.CloseOnExecFrom(3);
        SyncPipe.SetCloseOnExec(SyncFd);
        SyncPipe.SetCloseOnExec(MountNamespaceFd);
        if (hasConsoleSocket)
        {
            SyncPipe.SetCloseOnExec(ConsoleSocketFd);
        }
        // Until execve replaces this image, processes of the container must not be able to
        // open /proc/PID/exe and reach the host's crioci-runtime binary (runc CVE-2019-5736).
        LibC.prctl(LibC.PR_SET_DUMPABLE, 0, 0, 0, 0);
        try
        {
            TimeNamespaceJoin.CheckJoined();
            var process = RuntimeSpecReader.ReadProcess(File.ReadAllBytes(processFile))
                ?? throw new InitException("process file is empty");
            // The container's own profile and label (the process file carries them, as runc exec's does).
            var securityAttributes = Security.ExecSecurityAttributes.ForProcess(process);
            // An exec'd process is filtered like the container's own (runc exec does the same).
            var containerLinux = bundle is null ? null
                : RuntimeSpecReader.Read(File.ReadAllBytes(Path.Combine(bundle, "config.json")))?.Linux;
            var seccomp = containerLinux?.Seccomp;
            if (seccomp is not null)
            {
                Seccomp.SeccompFilter.Preload();
            }
            // Into the container's cgroup first, while the host's /sys/fs/cgroup is still visible:
            // the command's memory and CPU count against the container's limits.
            if (cgroupPath is not null)
            {
                new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).AddProcess(Environment.ProcessId);
            }
            // setns(CLONE_NEWNS) needs a thread that does not share its root with other threads.
            Errno.Check(LibC.unshare(LibC.CLONE_FS), "unshare", "CLONE_FS");
            Errno.Check(LibC.setns(MountNamespaceFd, LibC.CLONE_NEWNS), "setns", "container mount namespace");
            LibC.close(MountNamespaceFd);
            // In the container's mount namespace, so the pty comes from its devpts.
            if (process.Terminal)
            {
                if (!hasConsoleSocket)
                {
                    throw new InitException("process.terminal is set but no console socket was given");
                }
                TerminalSetup.Attach(ConsoleSocketFd, process.ConsoleSize, mountConsole: false);
            }
            ProcessSetup.ApplyLimits(process);
            ProcessSetup.ChangeDirectory(process);
            var executable = ProcessSetup.ResolveExecutable(process);
            // The container's execution domain holds for every process in it (runc's setns init too).
            SchedulingSetup.Apply(process, containerLinux?.Personality);
            securityAttributes.Apply(process);
            ProcessSetup.ApplyCredentialsAndSeccomp(process, seccomp);
            ProcessSetup.Exec(executable, process);
            return 127;
        }
        catch (Exception exception) when (exception is InitException or SyscallException or IOException or JsonException or ArgumentException or UnauthorizedAccessException or Core.CriOciException)
        {
            SyncPipe.Send(SyncFd, SyncPipe.Error, exception.Message);
            return 1;
        }
    }
}
