using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto UpdatePodSandboxResources: kubelet tells the runtime the pod's new
    /// overhead and resource totals after an in-place resize; they become the pod cgroup's limits.
    /// </summary>
    public override async Task<UpdatePodSandboxResourcesResponse> UpdatePodSandboxResources(UpdatePodSandboxResourcesRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        await sandboxes.UpdatePodSandboxResourcesAsync(podSandboxId, request.Overhead, request.Resources, context.CancellationToken);
        return new UpdatePodSandboxResourcesResponse();
    }
}
