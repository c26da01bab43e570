using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto StopContainer: "This call is idempotent, and must not return an error if
    /// the container has already been stopped." timeout is the grace period in seconds before
    /// SIGKILL; zero kills at once.
    /// </summary>
    public override async Task<StopContainerResponse> StopContainer(StopContainerRequest request, ServerCallContext context)
    {
        var containerId = Id(request.ContainerId, "container_id");
        var timeout = Seconds(request.Timeout, "timeout");
        await sandboxes.StopContainerAsync(containerId, timeout, context.CancellationToken);
        return new StopContainerResponse();
    }
}
