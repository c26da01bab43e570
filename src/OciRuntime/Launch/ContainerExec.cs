using System.Text.Json;
using CriOci.Core;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// Runs an extra process in a running container (runc exec): `crioci-runtime exec-init` is
/// spawned inside the init's pid, ipc, uts and network namespaces, enters the mount namespace
/// itself, applies the process's user and capabilities and execs the command.
/// </summary>
public static class ContainerExec
{
    /// <summary>What an exec joins before it starts; the mount namespace is entered after (by exec-init, or by <see cref="DirectExec"/>'s helper).</summary>
    internal static readonly (string Name, int Flag)[] JoinedNamespaces =
    [
        ("ipc", LibC.CLONE_NEWIPC),
        ("uts", LibC.CLONE_NEWUTS),
        ("net", LibC.CLONE_NEWNET),
        ("cgroup", LibC.CLONE_NEWCGROUP),
        ("pid", LibC.CLONE_NEWPID),
    ];

    internal static async Task<ExecResult> RunAsync(string runtimeExecutable, ExecSeccompCache seccompPrograms, StateDirectory directory,
        RuntimeContainerState? state, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        CheckRunning(directory.Id, state);
        var stateFile = directory.ReadState();
        var containerLinux = ReadContainerLinux(stateFile?.Bundle);
        if (DirectExec.CanRun(process, containerLinux, state.Pid))
        {
            var direct = SpawnDirect(seccompPrograms, directory, process, state.Pid, stateFile?.CgroupPath, containerLinux?.Seccomp);
            return await CollectAsync(direct, directory.Id, timeout, cancellationToken).ConfigureAwait(false);
        }
        var processFile = WriteProcessFile(directory, process);
        try
        {
            var spawned = Spawn(runtimeExecutable, state.Pid, processFile, stateFile?.CgroupPath, stateFile?.Bundle);
            return await CollectAsync(spawned, directory.Id, timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(processFile);
        }
    }

    /// <summary>The container's linux section (seccomp, personality), read without System.Text.Json.</summary>
    internal static LinuxSpec? ReadContainerLinux(string? bundle)
    {
        if (bundle is null)
        {
            return null;
        }
        var path = Path.Combine(bundle, "config.json");
        try
        {
            return RuntimeSpecReader.Read(File.ReadAllBytes(path))?.Linux;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new ContainerCannotRunException($"exec: cannot read the container's {path}: {exception.Message}");
        }
    }

    /// <summary>NotFound for an unknown container, FailedPrecondition for one that is not running.</summary>
    internal static void CheckRunning(string id, [System.Diagnostics.CodeAnalysis.NotNull] RuntimeContainerState? state)
    {
        if (state is null)
        {
            throw new NotFoundException($"container {id} not found");
        }
        if (state.Status != ContainerStatus.Running)
        {
            throw new FailedPreconditionException($"container {id} is {state.Status.ToSpecString()}, not running");
        }
    }

    /// <summary>The process for exec-init to read, in the container's state directory; the caller deletes it.</summary>
    internal static string WriteProcessFile(StateDirectory directory, ProcessSpec process)
    {
        var processFile = Path.Combine(directory.Path, $"exec-{Guid.NewGuid():N}.json");
        AtomicFile.ReplaceVolatile(processFile, JsonSerializer.SerializeToUtf8Bytes(process, OciJsonContext.Default.ProcessSpec));
        return processFile;
    }

    /// <param name="SyncRead">exec-init's report pipe, or -1 when the process started without it (<see cref="DirectExec"/>).</param>
    private sealed record SpawnedExec(int Pid, FileStream Stdout, FileStream Stderr, int SyncRead);

    private static SpawnedExec Spawn(string runtimeExecutable, int initPid, string processFile, string? cgroupPath, string? bundle) =>
        WithOutputPipes(stdio =>
        {
            var pid = StartProcess(runtimeExecutable, initPid, processFile, cgroupPath, bundle, stdio, out var syncRead);
            return (pid, syncRead);
        });

    private static SpawnedExec SpawnDirect(ExecSeccompCache seccompPrograms, StateDirectory directory, ProcessSpec process, int initPid,
        string? cgroupPath, SeccompSpec? seccomp) =>
        WithOutputPipes(stdio => (StartDirect(seccompPrograms, directory, process, initPid, cgroupPath, seccomp, stdio), -1));

    /// <summary><see cref="DirectExec.Start"/> with the container's seccomp program; a failure is the container's: it cannot run the command.</summary>
    internal static int StartDirect(ExecSeccompCache seccompPrograms, StateDirectory directory, ProcessSpec process, int initPid,
        string? cgroupPath, SeccompSpec? seccomp, InitStdio stdio)
    {
        try
        {
            return DirectExec.Start(process, initPid, cgroupPath, seccompPrograms.Get(directory, initPid, seccomp), stdio);
        }
        catch (Exception exception) when (exception is InitException or SyscallException or ArgumentException or DllNotFoundException
            or Core.InvalidArgumentException or Core.FailedPreconditionException)
        {
            throw new ContainerCannotRunException($"exec in container {directory.Id}: {exception.Message}");
        }
    }

    /// <summary>Starts a process with /dev/null for stdin and pipes for stdout and stderr.</summary>
    private static SpawnedExec WithOutputPipes(Func<InitStdio, (int Pid, int SyncRead)> start)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
        var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
        try
        {
            var (pid, syncRead) = start(new InitStdio(devNull, stdoutWrite, stderrWrite));
            return new SpawnedExec(pid, ExecOutput.ReadStream(stdoutRead), ExecOutput.ReadStream(stderrRead), syncRead);
        }
        catch
        {
            LibC.close(stdoutRead);
            LibC.close(stderrRead);
            throw;
        }
        finally
        {
            LibC.close(stdoutWrite);
            LibC.close(stderrWrite);
            LibC.close(devNull);
        }
    }

    /// <summary>
    /// Spawns exec-init for <paramref name="processFile"/> with the given standard streams;
    /// <paramref name="syncRead"/> reports an error line, or end-of-file once the command runs.
    /// </summary>
    public static int StartProcess(string runtimeExecutable, int initPid, string processFile, string? cgroupPath, string? bundle,
        InitStdio stdio, out int syncRead)
    {
        var joins = new List<NamespaceJoin>();
        foreach (var (name, flag) in JoinedNamespaces)
        {
            var path = $"/proc/{initPid}/ns/{name}";
            // Entering a namespace we are already in is harmless but costs a syscall; host
            // namespaces (hostNetwork, hostPID) are skipped this way.
            if (!SameNamespace(path, $"/proc/self/ns/{name}"))
            {
                joins.Add(new NamespaceJoin(flag, path));
            }
        }
        // A container in its own user namespace: exec-init joins it at clone time (only a
        // single-threaded process may).
        UserNamespaceRequest? userNamespace = SameNamespace($"/proc/{initPid}/ns/user", "/proc/self/ns/user") ? null
            : new UserNamespaceRequest($"/proc/{initPid}/ns/user", [], []);
        var mountNs = Errno.Check(LibC.open($"/proc/{initPid}/ns/mnt", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", $"/proc/{initPid}/ns/mnt");
        // A time namespace cannot be entered from this multi-threaded process: exec-init joins
        // it before its runtime starts (TimeNamespaceJoin), from a descriptor it inherits.
        var timeNs = SameNamespace($"/proc/{initPid}/ns/time", "/proc/self/ns/time") ? -1
            : Errno.Check(LibC.open($"/proc/{initPid}/ns/time", LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", $"/proc/{initPid}/ns/time");
        var (read, syncWrite) = ContainerRuntime.CreatePipe();
        try
        {
            var childFds = stdio.ChildFds(mountNs, syncWrite);
            List<string> environment = ["PATH=" + SpecDefaults.DefaultPath];
            if (timeNs >= 0)
            {
                environment.Add(TimeNamespaceJoin.Request(childFds.Count));
                childFds.Add(timeNs);
            }
            var pid = ProcessSpawner.Spawn(new SpawnRequest(runtimeExecutable,
                // exec-init starts in the container's cgroup (SpawnRequest.Cgroup) rather than
                // moving itself in: a cgroup.procs write takes the kernel's global lock.
                ExecInitArguments(runtimeExecutable, processFile, bundle, stdio.ConsoleSocket >= 0),
                environment,
                childFds,
                joins,
                ReadOnlyExecutable: true,
                UserNamespace: userNamespace,
                Cgroup: cgroupPath is null ? null : new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).Placement));
            syncRead = read;
            return pid;
        }
        catch
        {
            LibC.close(read);
            throw;
        }
        finally
        {
            LibC.close(syncWrite);
            LibC.close(mountNs);
            if (timeNs >= 0)
            {
                LibC.close(timeNs);
            }
        }
    }

    private static List<string> ExecInitArguments(string runtimeExecutable, string processFile, string? bundle, bool consoleSocket)
    {
        var args = new List<string> { runtimeExecutable, "exec-init" };
        if (bundle is not null)
        {
            args.AddRange(["--bundle", bundle]);
        }
        if (consoleSocket)
        {
            args.Add("--console-socket-fd");
        }
        args.Add(processFile);
        return args;
    }

    private static async Task<ExecResult> CollectAsync(SpawnedExec exec, string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var stdout = exec.Stdout;
        using var stderr = exec.Stderr;
        var syncTask = exec.SyncRead < 0 ? Task.FromResult<string?>(null) : Task.Factory.StartNew(() =>
        {
            try
            {
                return SyncPipe.ReadAll(exec.SyncRead);
            }
            finally
            {
                LibC.close(exec.SyncRead);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var stdoutTask = ExecOutput.ReadCappedAsync(stdout);
        var stderrTask = ExecOutput.ReadCappedAsync(stderr);
        var exitTask = Task.Factory.StartNew(() =>
        {
            int status;
            while (LibC.waitpid(exec.Pid, out status, 0) < 0
                && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
            }
            return LibC.ExitCodeFromWaitStatus(status, out _);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        var timedOut = false;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (timeout > TimeSpan.Zero)
            {
                limit.CancelAfter(timeout);
            }
            try
            {
                await exitTask.WaitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The caller's deadline or the CRI timeout: the command must not outlive it.
                LibC.kill(exec.Pid, 9);
                await exitTask.ConfigureAwait(false);
                timedOut = !cancellationToken.IsCancellationRequested;
                if (!timedOut)
                {
                    throw;
                }
            }
        }
        var report = await syncTask.ConfigureAwait(false);
        if (SyncPipe.IsError(report))
        {
            throw new ContainerCannotRunException($"exec in container {id}: {SyncPipe.ErrorText(report!)}");
        }
        if (timedOut)
        {
            throw new DeadlineExceededException($"command timed out after {timeout.TotalSeconds}s in container {id}");
        }
        // Background children of the command may keep the pipes open; do not wait for them long.
        var output = await Task.WhenAll(stdoutTask, stderrTask).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        return new ExecResult(exitTask.Result, output[0], output[1]);
    }

    /// <summary>Whether two /proc/.../ns links name the same namespace; false when either is gone.</summary>
    internal static bool SameNamespace(string a, string b)
    {
        try
        {
            return new FileInfo(a).LinkTarget == new FileInfo(b).LinkTarget;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
