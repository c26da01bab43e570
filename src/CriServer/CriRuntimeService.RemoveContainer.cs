using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto RemoveContainer: "If the container is running, the container must be
    /// forcibly removed. This call is idempotent, and must not return an error if the container
    /// has already been removed."
    /// </summary>
    public override async Task<RemoveContainerResponse> RemoveContainer(RemoveContainerRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        await sandboxes.RemoveContainerAsync(containerId, context.CancellationToken);
        return new RemoveContainerResponse();
    }
}
