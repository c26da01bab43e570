using CriOci.Core;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override Task<PortForwardResponse> PortForward(PortForwardRequest request, ServerCallContext context)
    {
        var podId = Id(request.PodSandboxId, "pod_sandbox_id");
        foreach (var port in request.Port)
        {
            if (port is <= 0 or > 65535)
            {
                throw new InvalidArgumentException($"port: {port} is not a TCP port");
            }
        }
        if (sandboxes.PodSandboxStatus(podId, verbose: false).Status.State != PodSandboxState.SandboxReady)
        {
            throw new FailedPreconditionException($"pod sandbox {podId} is not ready");
        }
        return Task.FromResult(streaming.Server.RegisterPortForward(request));
    }
}
