using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// Runs cmd to completion and returns its output and exit code; a non-zero exit is a
    /// successful call (kubelet's exec probes read exit_code). timeout is in seconds, zero for none.
    /// </summary>
    public override Task<ExecSyncResponse> ExecSync(ExecSyncRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        var command = RequiredItems(request.Cmd, "cmd");
        var timeout = Seconds(request.Timeout, "timeout");
        return sandboxes.ExecSyncAsync(containerId, command, timeout, context.CancellationToken);
    }
}
