using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override async Task<StartContainerResponse> StartContainer(StartContainerRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        await sandboxes.StartContainerAsync(containerId, context.CancellationToken);
        return new StartContainerResponse();
    }
}
