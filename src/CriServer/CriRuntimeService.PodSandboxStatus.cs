using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>cri-api api.proto: "If the PodSandbox is not present, returns an error." (NotFound from the manager.)</summary>
    public override Task<PodSandboxStatusResponse> PodSandboxStatus(PodSandboxStatusRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        return Task.FromResult(sandboxes.PodSandboxStatus(podSandboxId, request.Verbose));
    }
}
