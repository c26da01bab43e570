using CriOci.Core;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>Checks the container can take an exec now, then hands out a single-use streaming URL.</summary>
    public override Task<ExecResponse> Exec(ExecRequest request, ServerCallContext context)
    {
        RequireRunning(Id(request.ContainerId, "container_id"));
        return Task.FromResult(streaming.Server.RegisterExec(request));
    }

    public override Task<AttachResponse> Attach(AttachRequest request, ServerCallContext context)
    {
        RequireRunning(Id(request.ContainerId, "container_id"));
        return Task.FromResult(streaming.Server.RegisterAttach(request));
    }

    /// <summary>NotFound for an unknown container, FailedPrecondition for one that is not running (kubelet shows both to the user).</summary>
    private void RequireRunning(string containerId)
    {
        var state = sandboxes.ContainerStatus(containerId, verbose: false).Status.State;
        if (state != ContainerState.ContainerRunning)
        {
            throw new FailedPreconditionException($"container {containerId} is not running ({state})");
        }
    }
}
