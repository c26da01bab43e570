using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override Task<ListContainerStatsResponse> ListContainerStats(ListContainerStatsRequest request, ServerCallContext context)
    {
        var response = new ListContainerStatsResponse();
        response.Stats.AddRange(sandboxes.ListContainerStats(request.Filter));
        return Task.FromResult(response);
    }
}
