using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    /// <summary>How long to wait for the kernel to finish a SIGKILL before reporting failure.</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(10);

    public async Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // api.proto: "This call is idempotent, and must not return an error if the container
        // has already been stopped" (and an unknown container is treated the same).
        var id = Resolve(_containers, containerId);
        if (id is null || !_containers.TryGetValue(id, out var container))
        {
            return;
        }
        using var containerLock = await _locks.AcquireAsync(id, cancellationToken).ConfigureAwait(false);
        await StopLockedAsync(id, container.Record.StopSignal, timeout, cancellationToken).ConfigureAwait(false);
        // The exit watcher may not have seen this exit yet; announcing twice is prevented there.
        AnnounceStopIfExited(id);
    }

    private async Task StopLockedAsync(string id, string? stopSignal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var state = _runtime.GetState(id);
        if (state is null || state.Status == OciRuntime.State.ContainerStatus.Stopped)
        {
            return;
        }
        using var stopSpan = Telemetry.RuntimeSpans.Start("runtime.stop", id);
        if (timeout > TimeSpan.Zero)
        {
            var signalName = stopSignal ?? "SIGTERM";
            _runtime.Kill(id, Signals.Parse(signalName));
            if (await _runtime.WaitForExitAsync(id, timeout, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
            Log.StopEscalated(_logger, id, signalName);
            stopSpan?.SetTag("crioci.stop.escalated", true);
        }
        _runtime.Kill(id, Signals.SIGKILL);
        if (!await _runtime.WaitForExitAsync(id, KillWait, cancellationToken).ConfigureAwait(false))
        {
            throw new Core.UnavailableException($"container {id} did not exit after SIGKILL");
        }
    }
}
