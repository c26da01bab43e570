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
        // The runtime's state decides, not the record: a daemon killed after saving started_at
        // but before releasing the process left a container that may (and must) be started.
        if (_runtime.GetState(id)?.Status is not OciRuntime.State.ContainerStatus.Created)
        {
            throw new FailedPreconditionException($"container {id} was already started");
        }
        // Taken before the process is released: a process that exits at once must still show
        // finished_at after started_at. Saved before it too: a daemon killed right after the
        // release still knows when the container started (ContainerStatus reports it only once
        // the runtime no longer says created). Not fsynced into its directory: a power loss that
        // forgets the start time has ended the container too.
        var started = container.Record with { StartedAt = DateTimeOffset.UtcNow };
        _containerStore.ReplaceRecordUntilReboot(id, started);
        _containers[id] = container with { Record = started };
        using var startSpan = Telemetry.RuntimeSpans.Start("runtime.start", id);
        try
        {
            await _runtime.StartAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _containerStore.SaveRecord(id, container.Record);
            _containers[id] = container;
            throw;
        }
        Announce(id, container.Record.PodSandboxId, Cri.V1.ContainerEventType.ContainerStartedEvent);
    }
}
