using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>cri-api api.proto: "If the container is not present, returns an error." (NotFound from the manager.)</summary>
    public override Task<ContainerStatusResponse> ContainerStatus(ContainerStatusRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        return Task.FromResult(sandboxes.ContainerStatus(containerId, request.Verbose));
    }
}
