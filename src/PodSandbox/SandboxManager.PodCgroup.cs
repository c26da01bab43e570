using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Cgroups;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    /// <summary>The pod's own cgroup with its overhead and resources, before anything runs in it.</summary>
    private void CreatePodCgroup(string id, PodSandboxConfig config, Rollback rollback)
    {
        if (_podCgroups is null)
        {
            return;
        }
        var recordDirectory = _sandboxStore.PathOf(id);
        // Pushed first: Create may stop half-way (a limit the kernel refuses) after its mkdir.
        rollback.Push("remove pod cgroup", () => _podCgroups.Remove(recordDirectory));
        _podCgroups.Create(PodCgroup.PathFor(id, config), PodCgroupLimits.Sum(config.Linux?.Resources, config.Linux?.Overhead), recordDirectory);
    }

    /// <summary>Once the pod's containers are removed; a no-op for a cgroup this daemon did not create or removed already.</summary>
    private void RemovePodCgroup(string id)
    {
        if (_podCgroups is not null && !_podCgroups.Remove(_sandboxStore.PathOf(id)))
        {
            Log.PodCgroupInUse(_logger, id);
        }
    }

    public async Task UpdatePodSandboxResourcesAsync(string podSandboxId, LinuxContainerResources? overhead, LinuxContainerResources? resources, CancellationToken cancellationToken)
    {
        var id = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        using var podLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        if (!_sandboxes.TryGetValue(id, out var sandbox))
        {
            throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        }
        if (!sandbox.Record.Ready)
        {
            throw new FailedPreconditionException($"pod sandbox {podSandboxId} is not ready");
        }
        // Remembered in the pod's config, so its status and a restarted daemon see the new totals.
        var config = sandbox.Config.Clone();
        config.Linux ??= new LinuxPodSandboxConfig();
        config.Linux.Overhead = overhead ?? config.Linux.Overhead;
        config.Linux.Resources = resources ?? config.Linux.Resources;
        _podCgroups?.Update(PodCgroup.PathFor(id, config), PodCgroupLimits.Sum(config.Linux.Resources, config.Linux.Overhead));
        _sandboxStore.Save(id, sandbox.Record, config);
        _sandboxes[id] = sandbox with { Config = config };
    }
}
