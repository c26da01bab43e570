using CriOci.Core;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox;

/// <summary>
/// CNI CHECK runs a process per plugin, so it is asked for only where someone wants the answer:
/// PodSandboxStatus with verbose set (crictl inspectp, a debugging operator; kubelet's relist
/// polls without verbose every second and must stay cheap), and once per ready pod when a
/// restarted daemon recovers it (the network may have changed while nobody watched). A failed
/// CHECK is reported (verbose info, a warning log), never turned into NotReady: kubelet would
/// then kill and recreate a pod whose containers may be fine on the word of one plugin.
/// </summary>
internal sealed partial class SandboxManager
{
    public async Task<CniCheckResult> CheckPodNetworkAsync(string podSandboxId, CancellationToken cancellationToken)
    {
        var id = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        if (!_sandboxes.TryGetValue(id, out var sandbox))
        {
            throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        }
        if (!sandbox.Record.Ready)
        {
            return CniCheckResult.Skipped("pod sandbox is not ready");
        }
        try
        {
            var result = await _cni.CheckAsync(NetworkCacheDirectory(id), cancellationToken).ConfigureAwait(false);
            if (result is { Performed: true, Succeeded: false })
            {
                Log.NetworkCheckFailed(_logger, id, result.Message);
            }
            return result;
        }
        catch (UnavailableException exception)
        {
            // A plugin that hangs past the timeout failed its CHECK too.
            Log.NetworkCheckFailed(_logger, id, exception.Message);
            return new CniCheckResult(true, false, exception.Message);
        }
    }

    private async Task CheckRecoveredNetworksAsync()
    {
        foreach (var id in _sandboxes.Where(s => s.Value.Record.Ready && s.Value.Record.PodIps is not null).Select(s => s.Key).ToList())
        {
            try
            {
                await CheckPodNetworkAsync(id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is NotFoundException or CniConfigException or IOException)
            {
                // Removed meanwhile, or a cache this version cannot read: nothing to check.
                Log.NetworkCheckFailed(_logger, id, exception.Message);
            }
        }
    }
}
