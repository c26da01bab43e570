namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        // api.proto: removing a container that does not exist must not return an error.
        var id = Resolve(_containers, containerId);
        if (id is null)
        {
            return;
        }
        await StopContainerAsync(id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        using var containerLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        if (!_containers.TryGetValue(id, out var container))
        {
            return;
        }
        await _runtime.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        _mounter.Unmount(Path.Combine(container.Record.Bundle, Containers.ContainerSpecBuilder.RootfsDirectory));
        Containers.ImageVolumes.Unmount(_mounter, container.Record.Bundle);
        DeleteTree(container.Record.Bundle);
        _containerStore.Delete(id);
        _containers.TryRemove(id, out _);
        _cpuSamples.TryRemove(id, out _);
        if (_sandboxes.TryGetValue(container.Record.PodSandboxId, out var sandbox))
        {
            _reservedNames.TryRemove(ContainerName(container.Config.Metadata, sandbox.Config.Metadata), out _);
        }
        _locks.Forget(id);
        _stopAnnounced.TryRemove(id, out _);
        Announce(id, container.Record.PodSandboxId, Cri.V1.ContainerEventType.ContainerDeletedEvent);
    }
}
