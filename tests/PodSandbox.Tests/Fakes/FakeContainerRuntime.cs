using System.Collections.Concurrent;
using CriOci.OciRuntime;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>
/// Containers as in-memory states: create makes one "created", start "running", a kill
/// "stopped" with 128+signal. Every call is recorded.
/// </summary>
internal sealed class FakeContainerRuntime(CallLog log) : IContainerRuntime
{
    private readonly ConcurrentDictionary<string, RuntimeContainerState> _containers = new(StringComparer.Ordinal);
    private int _nextPid = 1000;

    public Exception? CreateFailure { get; set; }

    public ExecResult ExecResult { get; set; } = new(0, [], []);

    public ProcessSpec? LastExecProcess { get; private set; }

    public Task<int> CreateAsync(string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken)
    {
        log.Add($"Create {id}");
        if (CreateFailure is { } failure)
        {
            return Task.FromException<int>(failure);
        }
        var pid = Interlocked.Increment(ref _nextPid);
        _containers[id] = new RuntimeContainerState(id, ContainerStatus.Created, pid, DateTimeOffset.UtcNow, null);
        return Task.FromResult(pid);
    }

    public Task StartAsync(string id, CancellationToken cancellationToken)
    {
        log.Add($"Start {id}");
        _containers[id] = _containers[id] with { Status = ContainerStatus.Running };
        return Task.CompletedTask;
    }

    public RuntimeContainerState? GetState(string id) => _containers.GetValueOrDefault(id);

    public void Kill(string id, int signal)
    {
        log.Add($"Kill {id} {signal}");
        if (_containers.TryGetValue(id, out var state) && state.Status != ContainerStatus.Stopped)
        {
            _containers[id] = state with
            {
                Status = ContainerStatus.Stopped,
                Exit = new ContainerExitFile(128 + signal, signal, DateTimeOffset.UtcNow, false),
            };
        }
    }

    public Task<bool> WaitForExitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(GetState(id) is not { Status: not ContainerStatus.Stopped });

    public Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        log.Add($"Delete {id}");
        _containers.TryRemove(id, out _);
        return Task.CompletedTask;
    }

    public Task ReopenLogAsync(string id, string logPath, CancellationToken cancellationToken)
    {
        log.Add($"ReopenLog {id} {logPath}");
        return Task.CompletedTask;
    }

    public void UpdateResources(string id, ResourcesSpec resources)
    {
        log.Add($"UpdateResources {id} {resources.Memory?.Limit}");
    }

    public OciRuntime.Cgroups.CgroupStats? Stats(string id)
    {
        log.Add($"Stats {id}");
        return StatsResult;
    }

    public OciRuntime.Cgroups.CgroupStats? StatsResult { get; set; }

    public Task<ExecResult> ExecAsync(string id, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        log.Add($"Exec {id}");
        LastExecProcess = process;
        return Task.FromResult(ExecResult);
    }

    public Task<CriOci.OciRuntime.Launch.InteractiveProcess> ExecInteractiveAsync(string id, ProcessSpec process, bool stdin, CancellationToken cancellationToken) =>
        throw new NotSupportedException("interactive exec is not faked");

    public Task<CriOci.OciRuntime.Launch.AttachConnection> AttachAsync(string id, CancellationToken cancellationToken) =>
        throw new NotSupportedException("attach is not faked");
}
