using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto StopPodSandbox: "This call is idempotent, and must not return an error
    /// if all relevant resources have already been reclaimed." The manager guarantees that,
    /// including for an unknown ID.
    /// </summary>
    public override async Task<StopPodSandboxResponse> StopPodSandbox(StopPodSandboxRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        await sandboxes.StopPodSandboxAsync(podSandboxId, context.CancellationToken);
        return new StopPodSandboxResponse();
    }
}
