using CriOci.Core;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task StartContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        using var containerLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        if (!_containers.TryGetValue(id, out var container))
        {
            throw new NotFoundException($"container {containerId} not found");
        }
        if (container.Record.StartedAt is not null)
        {
            throw new FailedPreconditionException($"container {id} was already started");
        }
        // Taken before the process is released: a process that exits at once must still show
        // finished_at after started_at.
        var startedAt = DateTimeOffset.UtcNow;
        await _runtime.StartAsync(id, cancellationToken).ConfigureAwait(false);
        var started = container.Record with { StartedAt = startedAt };
        _containerStore.SaveRecord(id, started);
        _containers[id] = container with { Record = started };
        Announce(id, container.Record.PodSandboxId, Cri.V1.ContainerEventType.ContainerStartedEvent);
    }
}
