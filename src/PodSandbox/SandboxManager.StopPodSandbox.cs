namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken)
    {
        // api.proto: "If there are any running containers in the sandbox, they must be forcibly
        // terminated." and StopPodSandbox of an unknown sandbox must succeed (idempotent).
        var id = Resolve(_sandboxes, podSandboxId);
        if (id is null)
        {
            return;
        }
        using var podLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        foreach (var container in _containers.Values.Where(c => c.Record.PodSandboxId == id).ToList())
        {
            await StopContainerAsync(container.Record.Id, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        if (!_sandboxes.TryGetValue(id, out var sandbox))
        {
            return;
        }
        // After the containers, before the netns pin goes: the reaper sits in the pod's netns.
        await StopPodInfraAsync(id, sandbox.Record.Infra).ConfigureAwait(false);
        // The network goes with the pod's stop, as the CRI asks ("reclaims network resources"):
        // CNI DEL while the netns is still pinned. A failed DEL fails the stop, so kubelet retries
        // it; the cache stays until DEL succeeds.
        await ReleaseNetworkAsync(id).ConfigureAwait(false);
        if (!sandbox.Record.Ready)
        {
            return;
        }
        if (sandbox.Record.NetworkNamespace is { } network)
        {
            _mounter.Unmount(network);
        }
        var stopped = sandbox.Record with { Ready = false };
        _sandboxStore.SaveRecord(id, stopped);
        _sandboxes[id] = sandbox with { Record = stopped };
        Announce(id, id, Cri.V1.ContainerEventType.ContainerStoppedEvent);
    }
}
