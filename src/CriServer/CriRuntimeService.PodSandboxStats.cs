using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override Task<PodSandboxStatsResponse> PodSandboxStats(PodSandboxStatsRequest request, ServerCallContext context) =>
        Task.FromResult(new PodSandboxStatsResponse { Stats = sandboxes.PodSandboxStats(Id(request.PodSandboxId, "pod_sandbox_id")) });

    public override Task<ListPodSandboxStatsResponse> ListPodSandboxStats(ListPodSandboxStatsRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxStatsResponse();
        response.Stats.AddRange(sandboxes.ListPodSandboxStats(request.Filter));
        return Task.FromResult(response);
    }
}
