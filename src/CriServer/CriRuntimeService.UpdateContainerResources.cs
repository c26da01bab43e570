using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override async Task<UpdateContainerResourcesResponse> UpdateContainerResources(UpdateContainerResourcesRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        var resources = request.Linux ?? throw new Core.InvalidArgumentException("linux resources are required");
        await sandboxes.UpdateContainerResourcesAsync(containerId, resources, context.CancellationToken);
        return new UpdateContainerResourcesResponse();
    }
}
