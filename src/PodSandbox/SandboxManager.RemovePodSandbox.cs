namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken)
    {
        // api.proto: removing a sandbox that does not exist must not return an error.
        var id = Resolve(_sandboxes, podSandboxId);
        if (id is null)
        {
            return;
        }
        await StopPodSandboxAsync(id, cancellationToken).ConfigureAwait(false);
        using var podLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        foreach (var container in _containers.Values.Where(c => c.Record.PodSandboxId == id).ToList())
        {
            await RemoveContainerAsync(container.Record.Id, cancellationToken).ConfigureAwait(false);
        }
        // Before the pod is forgotten: if processes keep its cgroup busy, the removal fails and kubelet retries it.
        RemovePodCgroup(id);
        var finalStatus = TryPodStatus(id);
        if (!_sandboxes.TryRemove(id, out var sandbox))
        {
            return;
        }
        await StopPodInfraAsync(id, sandbox.Record.Infra).ConfigureAwait(false);
        await ReleaseNetworkAsync(id).ConfigureAwait(false);
        ReleaseSandboxResources(id);
        _sandboxStore.Delete(id);
        _reservedNames.TryRemove(SandboxName(sandbox.Config.Metadata), out _);
        _locks.Forget(id);
        _cpuSamples.TryRemove("pod/" + id, out _);
        Log.SandboxRemoved(_logger, id);
        Announce(id, id, Cri.V1.ContainerEventType.ContainerDeletedEvent, finalStatus);
    }
}
