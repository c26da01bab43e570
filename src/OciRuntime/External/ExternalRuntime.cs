using System.Globalization;
using System.Text.Json;
using CriOci.Core;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.External;

/// <param name="Binary">The runc-compatible binary and its root.</param>
/// <param name="RuntimeExecutable">crioci-runtime, started as each container's monitor.</param>
/// <param name="StateRoot">The monitors' own per-container state (state.json, exit.json, attach socket), apart from the binary's root.</param>
public sealed record ExternalRuntimeOptions(ExternalBinary Binary, string RuntimeExecutable, string StateRoot);

/// <summary>
/// <see cref="IContainerRuntime"/> over an external runc-compatible binary (a RuntimeClass
/// handler such as crun or runc). Each container still gets our monitor as its parent (see
/// <see cref="ExternalCreate"/>), so the CRI log, attach, log reopening and exit.json work as
/// for the embedded runtime; the lifecycle verbs (start, kill, delete, update, exec) are the
/// binary's. State is read from our files, asking the binary only between create and start.
/// </summary>
public sealed class ExternalRuntime : IContainerRuntime
{
    private const string StartedMarker = "started";
    private static readonly TimeSpan ExitPollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MonitorExitGrace = TimeSpan.FromSeconds(2);
    private readonly ExternalRuntimeOptions _options;
    private readonly SpecVersionAdapter _specVersion;

    public ExternalRuntime(ExternalRuntimeOptions options)
    {
        _options = options;
        _specVersion = new SpecVersionAdapter(options.Binary);
        Directory.CreateDirectory(options.StateRoot);
        Directory.CreateDirectory(options.Binary.Root);
    }

    public ExternalBinary Binary => _options.Binary;

    public Task<int> CreateAsync(string id, string bundle, string? logPath, CancellationToken cancellationToken) =>
        CreateAsync(id, bundle, logPath, MonitorIo.None, cancellationToken);

    /// <summary>
    /// Starts the monitor as <see cref="ContainerRuntime.CreateAsync(string, string, string?, MonitorIo, CancellationToken)"/>
    /// does, telling it which binary creates the container; waits for its ready report.
    /// </summary>
    public async Task<int> CreateAsync(string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken)
    {
        ContainerId.Validate(id);
        _specVersion.Adapt(bundle);
        var (syncRead, syncWrite) = ContainerRuntime.CreatePipe();
        int stage1;
        try
        {
            var args = new List<string>
            {
                _options.RuntimeExecutable, "monitor", "--root", _options.StateRoot, "--id", id,
                "--bundle", bundle, "--sync-fd", "3",
            };
            if (logPath is not null)
            {
                args.AddRange(["--log", logPath]);
            }
            if (io.Stdin)
            {
                args.Add("--stdin");
            }
            if (io.StdinOnce)
            {
                args.Add("--stdin-once");
            }
            args.AddRange(_options.Binary.ToMonitorArguments());
            var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
            try
            {
                stage1 = ProcessSpawner.Spawn(new SpawnRequest(_options.RuntimeExecutable, args,
                    ["PATH=" + SpecDefaults.DefaultPath], [devNull, devNull, devNull, syncWrite]));
            }
            finally
            {
                LibC.close(devNull);
            }
        }
        finally
        {
            LibC.close(syncWrite);
        }
        var report = await SyncPipe.ReadAllAsync(syncRead, reapFirst: stage1, cancellationToken).ConfigureAwait(false);

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
        throw new UnavailableException($"create container {id} with {_options.Binary.Path}: {message}");
    }

    public async Task StartAsync(string id, CancellationToken cancellationToken)
    {
        var current = GetState(id) ?? throw new NotFoundException($"container {id} not found");
        if (current.Status != ContainerStatus.Created)
        {
            throw new FailedPreconditionException($"container {id} is {current.Status.ToSpecString()}, not created");
        }
        var outcome = await ExternalCommand.RunAsync(_options.Binary.Command("start", id), cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            throw new ContainerCannotRunException($"{_options.Binary.Path} start {id}: {outcome.Message}");
        }
        MarkStarted(id);
    }

    private void MarkStarted(string id) => File.WriteAllBytes(Path.Combine(StateOf(id).Path, StartedMarker), []);

    public RuntimeContainerState? GetState(string id)
    {
        var directory = StateOf(id);
        var state = directory.ReadState();
        if (state is null)
        {
            return null;
        }
        if (directory.ReadExit() is { } exit)
        {
            return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created, exit);
        }
        if (ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
        {
            var status = !File.Exists(Path.Combine(directory.Path, StartedMarker)) && BinarySaysCreated(id) ? ContainerStatus.Created
                : state.CgroupPath is { } cgroupPath && new Cgroups.CgroupManager(Cgroups.CgroupHierarchy.Detect(), cgroupPath).IsFrozen() ? ContainerStatus.Paused
                : ContainerStatus.Running;
            return new RuntimeContainerState(id, status, state.InitPid, state.Created, null);
        }
        if (state.MonitorPid != 0 && ProcStat.IsSameLiveProcess(state.MonitorPid, state.MonitorStartTime))
        {
            // The init has just died and the monitor is about to record how (as in ContainerRuntime).
            return new RuntimeContainerState(id, ContainerStatus.Running, state.InitPid, state.Created, null);
        }
        if (directory.ReadExit() is { } lateExit)
        {
            return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created, lateExit);
        }
        return new RuntimeContainerState(id, ContainerStatus.Stopped, state.InitPid, state.Created,
            new ContainerExitFile(255, 0, DateTimeOffset.UtcNow, false));
    }

    /// <summary>
    /// Before our marker exists only the binary knows whether `start` ran (a daemon killed
    /// between `start` and the marker leaves a started container without one); once it says
    /// running, the marker is written so the question is not asked again.
    /// </summary>
    private bool BinarySaysCreated(string id)
    {
        var outcome = ExternalCommand.Run(_options.Binary.Command("state", id));
        if (!outcome.Succeeded)
        {
            return false;
        }
        try
        {
            using var document = JsonDocument.Parse(outcome.Stdout);
            var status = document.RootElement.TryGetProperty("status", out var value) ? value.GetString() : null;
            if (status == "created")
            {
                return true;
            }
            MarkStarted(id);
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public void Kill(string id, int signal)
    {
        var directory = StateOf(id);
        var state = directory.ReadState();
        if (state is null || directory.ReadExit() is not null || !ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
        {
            return;
        }
        var outcome = ExternalCommand.Run(_options.Binary.Command("kill", id, signal.ToString(CultureInfo.InvariantCulture)));
        // A container that exited meanwhile refuses the signal ("container not running"): that is success.
        if (!outcome.Succeeded && ProcStat.IsSameLiveProcess(state.InitPid, state.InitStartTime))
        {
            throw new UnavailableException($"{_options.Binary.Path} kill {id} {signal}: {outcome.Message}");
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
        if (state is not null && state.Status != ContainerStatus.Stopped)
        {
            Kill(id, Signals.SIGKILL);
            if (!await WaitForExitAsync(id, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false))
            {
                throw new UnavailableException($"container {id} did not die after SIGKILL");
            }
        }
        if (StateOf(id).ReadState() is { MonitorPid: > 0 } monitored)
        {
            var deadline = DateTime.UtcNow + MonitorExitGrace;
            while (ProcStat.IsSameLiveProcess(monitored.MonitorPid, monitored.MonitorStartTime) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(ExitPollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        // The binary removes its state and the container's cgroup; "does not exist" on a
        // second delete is the idempotent case.
        var outcome = await ExternalCommand.RunAsync(_options.Binary.Command("delete", "--force", id), cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded && Directory.Exists(Path.Combine(_options.Binary.Root, id)))
        {
            throw new UnavailableException($"{_options.Binary.Path} delete {id}: {outcome.Message}");
        }
        var path = StateOf(id).Path;
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    public Task ReopenLogAsync(string id, string logPath, CancellationToken cancellationToken) =>
        Monitor.MonitorLogReopen.RequestAsync(StateOf(id), id, () => GetState(id)?.Status is ContainerStatus.Stopped, logPath, cancellationToken);

    /// <summary>`update --resources -`: the OCI linux.resources document on stdin, as runc and crun read it.</summary>
    public void UpdateResources(string id, ResourcesSpec resources)
    {
        if (GetState(id) is not { Status: not ContainerStatus.Stopped })
        {
            throw new FailedPreconditionException($"container {id} is not running; its resources cannot change");
        }
        var document = JsonSerializer.SerializeToUtf8Bytes(resources, OciJsonContext.Default.ResourcesSpec);
        var outcome = ExternalCommand.Run(_options.Binary.Command("update", "--resources", "-", id), document);
        if (!outcome.Succeeded)
        {
            throw new UnavailableException($"{_options.Binary.Path} update {id}: {outcome.Message}");
        }
    }

    /// <summary>The binary created the cgroup at the spec's cgroupsPath (cgroupfs driver); it is read like ours.</summary>
    public Cgroups.CgroupStats? Stats(string id) =>
        StateOf(id).ReadState()?.CgroupPath is { } cgroupPath
            ? Cgroups.CgroupStats.Read(Cgroups.CgroupHierarchy.Detect(), cgroupPath)
            : null;

    public Task<ExecResult> ExecAsync(string id, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken) =>
        ExternalExec.RunAsync(_options.Binary, StateOf(id), GetState(id), process, timeout, cancellationToken);

    public Task<InteractiveProcess> ExecInteractiveAsync(string id, ProcessSpec process, bool stdin, CancellationToken cancellationToken) =>
        ExternalExec.StartInteractiveAsync(_options.Binary, StateOf(id), GetState(id), process, stdin, cancellationToken);

    public Task<AttachConnection> AttachAsync(string id, CancellationToken cancellationToken) =>
        AttachConnection.ConnectAsync(id, GetState(id), StateOf(id).AttachSocketPath, cancellationToken);

    private StateDirectory StateOf(string id)
    {
        ContainerId.Validate(id);
        return new StateDirectory(_options.StateRoot, id);
    }
}
