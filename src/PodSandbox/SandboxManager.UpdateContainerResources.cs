using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        using var containerLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        if (!_containers.TryGetValue(id, out var container))
        {
            throw new NotFoundException($"container {containerId} not found");
        }
        _runtime.UpdateResources(id, ContainerSpecBuilder.ResourcesForUpdate(resources));
        // Remembered with the container, so its status and a restarted daemon see the new limits.
        var config = container.Config.Clone();
        config.Linux ??= new LinuxContainerConfig();
        config.Linux.Resources = resources;
        _containerStore.Save(id, container.Record, config);
        _containers[id] = container with { Config = config };
    }
}
