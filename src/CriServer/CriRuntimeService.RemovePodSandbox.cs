using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto RemovePodSandbox: "This call is idempotent, and must not return an error
    /// if the sandbox has already been removed." The manager treats an unknown ID as removed.
    /// </summary>
    public override async Task<RemovePodSandboxResponse> RemovePodSandbox(RemovePodSandboxRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        await sandboxes.RemovePodSandboxAsync(podSandboxId, context.CancellationToken);
        return new RemovePodSandboxResponse();
    }
}
