using System.Text.Json;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Spec;
using Google.Protobuf;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task<ExecSyncResponse> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (id, process) = await ExecProcessAsync(containerId, command, terminal: false, cancellationToken).ConfigureAwait(false);
        using var execSpan = Telemetry.RuntimeSpans.Start("runtime.exec", id);
        Telemetry.PodSandboxMetrics.RecordExec("sync");
        var result = await _runtime.ExecAsync(id, process, timeout, cancellationToken).ConfigureAwait(false);
        return new ExecSyncResponse
        {
            ExitCode = result.ExitCode,
            Stdout = ByteString.CopyFrom(result.Stdout),
            Stderr = ByteString.CopyFrom(result.Stderr),
        };
    }

    public async Task<InteractiveProcess> ExecInteractiveAsync(string containerId, IReadOnlyList<string> command, bool tty, bool stdin, CancellationToken cancellationToken)
    {
        var (id, process) = await ExecProcessAsync(containerId, command, tty, cancellationToken).ConfigureAwait(false);
        using var execSpan = Telemetry.RuntimeSpans.Start("runtime.exec", id);
        Telemetry.PodSandboxMetrics.RecordExec("interactive");
        return await _runtime.ExecInteractiveAsync(id, process, stdin, cancellationToken).ConfigureAwait(false);
    }

    public Task<AttachConnection> AttachAsync(string containerId, CancellationToken cancellationToken)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        return _runtime.AttachAsync(id, cancellationToken);
    }

    /// <summary>
    /// The exec'd process gets the container's own user, environment, working directory and
    /// capabilities (runc exec takes them from the container's config.json the same way).
    /// </summary>
    private async Task<(string Id, ProcessSpec Process)> ExecProcessAsync(string containerId, IReadOnlyList<string> command, bool terminal, CancellationToken cancellationToken)
    {
        if (command.Count == 0)
        {
            throw new InvalidArgumentException("cmd must not be empty");
        }
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        var container = _containers.TryGetValue(id, out var found) ? found : throw new NotFoundException($"container {containerId} not found");
        var spec = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(container.Record.Bundle, "config.json"), cancellationToken).ConfigureAwait(false),
            OciJsonContext.Default.RuntimeSpec) ?? throw new FailedPreconditionException($"container {id} has no runtime spec");
        var process = (spec.Process ?? throw new FailedPreconditionException($"container {id} has no process")) with
        {
            Args = command,
            Terminal = terminal,
            OomScoreAdj = null,
        };
        return (id, process);
    }
}
