using System.Collections.Concurrent;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Events;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    private readonly ContainerEventHub _events = new();

    /// <summary>Containers whose stop was announced, so the watcher and the callers that see an exit first do not announce it twice.</summary>
    private readonly ConcurrentDictionary<string, bool> _stopAnnounced = new(StringComparer.Ordinal);

    private ContainerExitWatcher? _exitWatcher;

    public ContainerEventSubscription SubscribeContainerEvents() => _events.Subscribe();

    private void StartExitWatcher() =>
        _exitWatcher = new ContainerExitWatcher(_options.RuntimeStateRoot, OnContainerExited, AnnounceEveryExit);

    public void Dispose() => _exitWatcher?.Dispose();

    private void AnnounceEveryExit()
    {
        foreach (var id in _containers.Keys)
        {
            OnContainerExited(id);
        }
    }

    /// <summary>
    /// From the watcher's thread. The stop is announced under the container's lock, so a
    /// container that exits the moment it starts is reported started before stopped (the
    /// start holds the lock until it has announced).
    /// </summary>
    private void OnContainerExited(string containerId)
    {
        if (!_containers.ContainsKey(containerId))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            using (await _locks.AcquireAsync(containerId, CancellationToken.None).ConfigureAwait(false))
            {
                AnnounceStopIfExited(containerId);
            }
            if (!_containers.ContainsKey(containerId))
            {
                // Removed meanwhile: the lock was taken anew just for this.
                _locks.Forget(containerId);
            }
        });
    }

    /// <summary>Call with the container's lock held.</summary>
    private void AnnounceStopIfExited(string containerId)
    {
        if (!_containers.TryGetValue(containerId, out var container) || _runtime.GetState(containerId)?.Exit is not { } exit)
        {
            return;
        }
        if (_stopAnnounced.TryAdd(containerId, true))
        {
            Telemetry.PodSandboxMetrics.RecordExit(exit);
            Announce(containerId, container.Record.PodSandboxId, ContainerEventType.ContainerStoppedEvent);
        }
    }

    /// <summary>
    /// Sends one event with the pod's status and all its containers' statuses, as kubelet's
    /// evented PLEG reads them: a pod's own events carry the pod ID as container ID (containerd
    /// does the same).
    /// </summary>
    private void Announce(string containerId, string podSandboxId, ContainerEventType type, PodSandboxStatus? podStatus = null)
    {
        if (_events.SubscriberCount == 0)
        {
            return;
        }
        var response = new ContainerEventResponse
        {
            ContainerId = containerId,
            ContainerEventType = type,
            CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeNanoseconds(),
            PodSandboxStatus = podStatus ?? TryPodStatus(podSandboxId),
        };
        foreach (var member in _containers.Values.Where(c => c.Record.PodSandboxId == podSandboxId).Select(c => c.Record.Id))
        {
            try
            {
                response.ContainersStatuses.Add(ContainerStatus(member, verbose: false).Status);
            }
            catch (NotFoundException)
            {
                // Removed while the event was being put together; the deleted event follows.
            }
        }
        _events.Publish(response);
    }

    private PodSandboxStatus? TryPodStatus(string podSandboxId)
    {
        try
        {
            return PodSandboxStatus(podSandboxId, verbose: false).Status;
        }
        catch (NotFoundException)
        {
            return null;
        }
    }
}
