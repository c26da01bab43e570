using System.Text.Json;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using Google.Protobuf;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task<ExecSyncResponse> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (command.Count == 0)
        {
            throw new InvalidArgumentException("cmd must not be empty");
        }
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        var container = _containers.TryGetValue(id, out var found) ? found : throw new NotFoundException($"container {containerId} not found");
        // The exec'd process gets the container's own user, environment, working directory
        // and capabilities (runc exec takes them from the container's config.json the same way).
        var spec = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(Path.Combine(container.Record.Bundle, "config.json"), cancellationToken).ConfigureAwait(false),
            OciJsonContext.Default.RuntimeSpec) ?? throw new FailedPreconditionException($"container {id} has no runtime spec");
        var process = (spec.Process ?? throw new FailedPreconditionException($"container {id} has no process")) with
        {
            Args = command,
            Terminal = false,
            OomScoreAdj = null,
        };
        var result = await _runtime.ExecAsync(id, process, timeout, cancellationToken).ConfigureAwait(false);
        return new ExecSyncResponse
        {
            ExitCode = result.ExitCode,
            Stdout = ByteString.CopyFrom(result.Stdout),
            Stderr = ByteString.CopyFrom(result.Stderr),
        };
    }
}
