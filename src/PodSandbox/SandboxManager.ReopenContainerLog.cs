using CriOci.Core;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        var container = _containers.TryGetValue(id, out var found) ? found : throw new NotFoundException($"container {containerId} not found");
        if (container.Record.LogPath is not { } logPath)
        {
            throw new FailedPreconditionException($"container {id} has no log path");
        }
        await _runtime.ReopenLogAsync(id, logPath, cancellationToken).ConfigureAwait(false);
    }
}
