using System.Globalization;
using CriOci.Core;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <param name="RuntimeExecutable">The crioci-runtime binary started for monitors and execs.</param>
/// <param name="StateRoot">Where per-container runtime state lives (tmpfs).</param>
public sealed record RuntimeOptions(string RuntimeExecutable, string StateRoot);

/// <summary>The daemon's in-process OCI runtime (see <see cref="IContainerRuntime"/>).</summary>
public sealed class ContainerRuntime : IContainerRuntime, IDisposable
{
    private static readonly TimeSpan ExitPollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MonitorExitGrace = TimeSpan.FromSeconds(2);
    private readonly RuntimeOptions _options;
    private readonly ExecSeccompCache _execSeccompPrograms = new();
    private StandbyMonitor? _standby;
    private int _standbyStarting;
    private volatile bool _disposed;

    /// <summary>The runtimes of this process, for <see cref="StandbyMonitorPids"/>.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<ContainerRuntime, byte> Live = new();

    public ContainerRuntime(RuntimeOptions options)
    {
        _options = options;
        Directory.CreateDirectory(options.StateRoot);
        Live.TryAdd(this, 0);
    }

    /// <summary>
    /// The monitors this process keeps on standby for the runtimes under <paramref name="stateRoot"/>:
    /// processes that belong to no container yet, so no state.json names them (the daemon's
    /// monitor gauges count them apart).
    /// </summary>
    public static IReadOnlyList<int> StandbyMonitorPids(string stateRoot) =>
        [.. Live.Keys.Where(runtime => runtime._options.StateRoot == stateRoot).Select(runtime => runtime.StandbyMonitorPid).OfType<int>()];

    public Task<int> CreateAsync(string id, string bundle, string? logPath, CancellationToken cancellationToken) =>
        CreateAsync(id, bundle, logPath, MonitorIo.None, cancellationToken);

    public async Task<int> CreateAsync(string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken)
    {
        ContainerId.Validate(id);
        var arguments = new List<string>
        {
            "--detached", "--root", _options.StateRoot, "--id", id, "--bundle", bundle,
            "--sync-fd", StandbyMonitor.SyncFd.ToString(CultureInfo.InvariantCulture),
        };
        if (logPath is not null)
        {
            arguments.AddRange(["--log", logPath]);
        }
        if (io.Stdin)
        {
            arguments.Add("--stdin");
        }
        if (io.StdinOnce)
        {
            arguments.Add("--stdin-once");
        }
        string? report;
        try
        {
            bool fromStandby;
            int syncRead;
            using (var monitor = TakeStandby(arguments, out fromStandby))
            {
                syncRead = monitor.TakeSyncRead();
            }
            // End of file once the monitor has reported (it closes the pipe) or died.
            report = await SyncPipe.ReadAllAsync(syncRead, reapFirst: -1, cancellationToken).ConfigureAwait(false);
            if (report is null && fromStandby && !Directory.Exists(Path.Combine(_options.StateRoot, id)))
            {
                // A standby that died around the hand-over (its pipe took the request, then it
                // was killed) created nothing: a monitor started now does the create instead.
                using (var monitor = TakeStandby(arguments, out _))
                {
                    syncRead = monitor.TakeSyncRead();
                }
                report = await SyncPipe.ReadAllAsync(syncRead, reapFirst: -1, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // The next create's monitor starts now, between creates, not on its critical path.
            StartStandbyInBackground();
        }

        if (SyncPipe.TryParseReadyPid(report, out var pid))
        {
            return pid;
        }
        var message = SyncPipe.ErrorText(report ?? "monitor exited without a report");
        if (message.StartsWith("cannot-run ", StringComparison.Ordinal))
        {
            throw new ContainerCannotRunException(message["cannot-run ".Length..]);
        }
        if (message.StartsWith("failed ", StringComparison.Ordinal))
        {
            message = message["failed ".Length..];
        }
        throw new UnavailableException($"create container {id}: {message}");
    }

    /// <summary>
    /// The wait for the init's byte blocks in poll(2), so it runs on a thread of its own rather
    /// than holding a pool thread (it is normally over at once: the init already waits).
    /// </summary>
    public Task StartAsync(string id, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Start(id, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The OCI "start" operation, on the caller's thread (the command line has nothing else to do).</summary>
    public void Start(string id, CancellationToken cancellationToken)
    {
        var directory = StateOf(id);
        var stateFile = directory.ReadState() ?? throw new NotFoundException($"container {id} not found");
        var current = StateFrom(directory, stateFile);
        if (current.Status != ContainerStatus.Created)
        {
            throw new FailedPreconditionException($"container {id} is {current.Status.ToSpecString()}, not created");
        }
        ExecFifoRelease.Release(id, directory.ExecFifo, current.Pid, stateFile.InitStartTime, cancellationToken);
        File.Delete(directory.ExecFifo);
        RunHooksLogged(stateFile, static hooks => hooks?.Poststart, "poststart", "running");
    }

    /// <summary>
    /// poststart and poststop failures are reported on stderr and otherwise ignored, as the spec
    /// says. The hooks come from the bundle's config.json, of which nothing else is read; a
    /// config.json that is missing or not JSON runs none.
    /// </summary>
    private static void RunHooksLogged(ContainerStateFile stateFile, Func<HooksSpec?, IReadOnlyList<HookSpec>?> select, string phase, string status)
    {
        SpecHooks? spec;
        try
        {
            spec = RuntimeSpecReader.ReadHooks(File.ReadAllBytes(Path.Combine(stateFile.Bundle, "config.json")));
        }
        catch (Exception exception) when (exception is System.Text.Json.JsonException or FileNotFoundException)
        {
            return;
        }
        if (select(spec?.Hooks) is not { Count: > 0 } hooks)
        {
            return;
        }
        try
        {
            Hooks.HookRunner.Run(hooks, phase, new OciState(SpecDefaults.OciVersion, stateFile.Id, status, stateFile.InitPid, stateFile.Bundle, spec!.Annotations));
        }
        catch (Exception exception) when (exception is Hooks.HookFailedException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"crioci-runtime: {exception.Message}");
        }
    }

    public RuntimeContainerState? GetState(string id)
    {
        var directory = StateOf(id);
        return directory.ReadState() is { } state ? StateFrom(directory, state) : null;
    }

    private static RuntimeContainerState StateFrom(StateDirectory directory, ContainerStateFile state)
    {
        var id = directory.Id;
        var exit = directory.ReadExit();
        if (exit is not null)
        {
            return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created, exit);
        }
        if (ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
        {
            var status = InitAwaitsStart(state.InitPid, directory.ExecFifo) ? ContainerStatus.Created
                : state.CgroupPath is { } cgroupPath && new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).IsFrozen() ? ContainerStatus.Paused
                : ContainerStatus.Running;
            return new RuntimeContainerState(id, status, state.InitPid, state.Created, null);
        }
        if (state.MonitorPid != 0 && ProcStat.IsSameLiveProcess(state.MonitorPid, state.MonitorStartTime))
        {
            // The init has just died and its monitor is about to record how: the container
            // counts as running until exit.json says otherwise, so nobody sees a made-up code.
            return new RuntimeContainerState(id, ContainerStatus.Running, state.InitPid, state.Created, null);
        }
        // The monitor may have written exit.json and exited between our first look and now.
        if (directory.ReadExit() is { } lateExit)
        {
            return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created, lateExit);
        }
        // The init is gone but nothing recorded how: its monitor died with it. Report the
        // conventional "unknown" exit rather than pretending it still runs.
        return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created,
            new ContainerExitFile(255, 0, DateTimeOffset.UtcNow, false));
    }

    /// <summary>
    /// Whether the init still waits for `start`: it holds the exec fifo open (as
    /// <see cref="ContainerInit.ExecFifoFd"/>) until a `start` has taken its byte, and closes it
    /// before it becomes the user's process. The fifo file alone does not tell: a `start` killed
    /// after releasing the init and before deleting the fifo (a daemon SIGKILLed at that moment)
    /// leaves it behind, and the container would look created for ever while it runs.
    /// </summary>
    private static bool InitAwaitsStart(int initPid, string execFifo)
    {
        var fifo = LibC.open(execFifo, LibC.O_PATH | LibC.O_CLOEXEC, 0);
        if (fifo < 0)
        {
            return false;
        }
        try
        {
            // Both links are printed by the kernel from the same mount and inode, so a state root
            // reached through a symlink still compares equal.
            var fifoPath = LinkTargetOrNull($"/proc/self/fd/{fifo}");
            return fifoPath is not null && LinkTargetOrNull($"/proc/{initPid}/fd/{ContainerInit.ExecFifoFd}") == fifoPath;
        }
        catch (UnauthorizedAccessException)
        {
            // Not allowed to look at the init's descriptors: trust the fifo, as runc does.
            return true;
        }
        finally
        {
            LibC.close(fifo);
        }
    }

    private static string? LinkTargetOrNull(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Kill(string id, int signal)
    {
        var state = StateOf(id).ReadState();
        if (state is null || StateOf(id).ReadExit() is not null || !ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
        {
            return;
        }
        if (LibC.kill(state.InitPid, signal) < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno != Errno.ESRCH)
            {
                throw new SyscallException(errno, "kill", $"container {id} pid {state.InitPid}");
            }
        }
    }

    public async Task<bool> WaitForExitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var state = GetState(id);
            if (state is null || state.Status == ContainerStatus.Stopped)
            {
                return true;
            }
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            await Task.Delay(ExitPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var state = GetState(id);
        if (state is null)
        {
            DeleteStateDirectory(id);
            return;
        }
        if (state.Status != ContainerStatus.Stopped)
        {
            Kill(id, 9);
            if (!await WaitForExitAsync(id, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
            {
                throw new UnavailableException($"container {id} did not die after SIGKILL");
            }
        }
        await WaitForMonitorToEndAsync(id, cancellationToken).ConfigureAwait(false);
        DeleteStateDirectory(id);
    }

    /// <summary>
    /// The monitor writes exit.json as its last act and then exits; its directory goes only
    /// once it has, so nothing of it can touch (or re-create) the directory afterwards. A
    /// monitor that does not end soon is not waited for.
    /// </summary>
    private async Task WaitForMonitorToEndAsync(string id, CancellationToken cancellationToken)
    {
        if (StateOf(id).ReadState() is not { MonitorPid: > 0 } state)
        {
            return;
        }
        var deadline = DateTime.UtcNow + MonitorExitGrace;
        while (ProcStat.IsSameLiveProcess(state.MonitorPid, state.MonitorStartTime) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(ExitPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private void DeleteStateDirectory(string id)
    {
        var directory = StateOf(id);
        if (directory.ReadState() is { } stateFile)
        {
            RunHooksLogged(stateFile, static hooks => hooks?.Poststop, "poststop", "stopped");
            if (stateFile.CgroupPath is { } cgroupPath)
            {
                new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).Destroy();
            }
        }
        _execSeccompPrograms.Forget(directory);
        var path = directory.Path;
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public Task ReopenLogAsync(string id, string logPath, CancellationToken cancellationToken) =>
        Monitor.MonitorLogReopen.RequestAsync(StateOf(id), id, () => GetState(id)?.Status is ContainerStatus.Stopped, logPath, cancellationToken);

    public void UpdateResources(string id, ResourcesSpec resources)
    {
        if (GetState(id) is not { Status: not ContainerStatus.Stopped })
        {
            throw new FailedPreconditionException($"container {id} is not running; its resources cannot change");
        }
        Cgroup(id).Update(resources);
    }

    public Cgroups.CgroupStats? Stats(string id) =>
        StateOf(id).ReadState()?.CgroupPath is { } cgroupPath
            ? Cgroups.CgroupStats.Read(Cgroups.CgroupHierarchy.Detect(), cgroupPath)
            : null;

    /// <summary>The container's cgroup, for pause, resume, update and ps.</summary>
    public Cgroups.CgroupManager Cgroup(string id)
    {
        var state = StateOf(id).ReadState() ?? throw new NotFoundException($"container {id} does not exist");
        return new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), state.CgroupPath
            ?? throw new FailedPreconditionException($"container {id} has no cgroup"));
    }

    /// <summary>Every container under this runtime root.</summary>
    public IReadOnlyList<string> ListIds() => Directory.Exists(_options.StateRoot)
        ? Directory.EnumerateDirectories(_options.StateRoot).Select(Path.GetFileName).Where(id => id is not null && StateOf(id).Exists).Cast<string>().Order(StringComparer.Ordinal).ToList()
        : [];

    /// <summary>The state file as written at create time (bundle, created time, annotations).</summary>
    public ContainerStateFile? StateFile(string id) => StateOf(id).ReadState();

    /// <summary>The bundle directory the container was created from, or null.</summary>
    public string? Bundle(string id) => StateOf(id).ReadState()?.Bundle;

    public Task<ExecResult> ExecAsync(string id, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken) =>
        ContainerExec.RunAsync(_options.RuntimeExecutable, _execSeccompPrograms, StateOf(id), GetState(id), process, timeout, cancellationToken);

    public Task<InteractiveProcess> ExecInteractiveAsync(string id, ProcessSpec process, bool stdin, CancellationToken cancellationToken) =>
        InteractiveExec.StartAsync(_options.RuntimeExecutable, _execSeccompPrograms, StateOf(id), GetState(id), process, stdin, cancellationToken);

    public Task<AttachConnection> AttachAsync(string id, CancellationToken cancellationToken) =>
        AttachConnection.ConnectAsync(id, GetState(id), StateOf(id).AttachSocketPath, cancellationToken);

    internal StateDirectory StateOf(string id)
    {
        ContainerId.Validate(id);
        return new StateDirectory(_options.StateRoot, id);
    }

    /// <summary>
    /// The monitor on standby with the request sent, or, when there is none (the first create,
    /// or concurrent ones) or it has died, one started now.
    /// </summary>
    private StandbyMonitor TakeStandby(IReadOnlyList<string> arguments, out bool fromStandby)
    {
        fromStandby = false;
        if (Interlocked.Exchange(ref _standby, null) is { } standby)
        {
            if (standby.TrySend(arguments))
            {
                fromStandby = true;
                return standby;
            }
            standby.Dispose();
        }
        var monitor = StandbyMonitor.Start(_options.RuntimeExecutable, _options.StateRoot);
        if (!monitor.TrySend(arguments))
        {
            monitor.Dispose();
            throw new UnavailableException($"create container: the monitor (pid {monitor.Pid}) exited before it was given the container");
        }
        return monitor;
    }

    /// <summary>
    /// Puts a monitor on standby now rather than at the first create, for a daemon: its footprint
    /// is then the same before and after the first container, and the first create is as fast as
    /// the others.
    /// </summary>
    public void PrepareStandby() => StartStandbyInBackground();

    /// <summary>At most one monitor waits on standby, however many creates run at once.</summary>
    private void StartStandbyInBackground()
    {
        if (_disposed || Volatile.Read(ref _standby) is not null || Interlocked.Exchange(ref _standbyStarting, 1) == 1)
        {
            return;
        }
        _ = Task.Run(() =>
        {
            try
            {
                var started = StandbyMonitor.Start(_options.RuntimeExecutable, _options.StateRoot);
                Interlocked.Exchange(ref _standby, started)?.Dispose();
                // A Dispose that ran while this one started has already emptied the slot: the
                // standby stored after it would otherwise live as long as the daemon.
                if (_disposed)
                {
                    Interlocked.Exchange(ref _standby, null)?.Dispose();
                }
            }
            catch (SyscallException)
            {
                // No standby this time: the next create starts its monitor itself, and reports
                // the failure if it persists.
            }
            finally
            {
                Volatile.Write(ref _standbyStarting, 0);
            }
        });
    }

    /// <summary>Drops the monitor on standby, which then exits; containers and their monitors are untouched.</summary>
    public void Dispose()
    {
        _disposed = true;
        Live.TryRemove(this, out _);
        Interlocked.Exchange(ref _standby, null)?.Dispose();
    }

    /// <summary>The pid of the monitor on standby, if one is ready.</summary>
    internal int? StandbyMonitorPid => Volatile.Read(ref _standby)?.Pid;

    internal static (int Read, int Write) CreatePipe()
    {
        unsafe
        {
            var fds = stackalloc int[2];
            Errno.Check(LibC.pipe2(fds, LibC.O_CLOEXEC), "pipe2");
            return (fds[0], fds[1]);
        }
    }
}
