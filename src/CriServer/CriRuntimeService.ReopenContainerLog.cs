using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override async Task<ReopenContainerLogResponse> ReopenContainerLog(ReopenContainerLogRequest request, ServerCallContext context)
    {
        await sandboxes.ReopenContainerLogAsync(Id(request.ContainerId, "container_id"), context.CancellationToken);
        return new ReopenContainerLogResponse();
    }
}
