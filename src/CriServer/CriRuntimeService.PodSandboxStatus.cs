using System.Text.Json.Nodes;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// cri-api api.proto: "If the PodSandbox is not present, returns an error." (NotFound from the manager.)
    /// Verbose adds info["networkCheck"]: the CNI CHECK of the pod's network, run now (see SandboxManager.NetworkCheck.cs).
    /// </summary>
    public override async Task<PodSandboxStatusResponse> PodSandboxStatus(PodSandboxStatusRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        var response = sandboxes.PodSandboxStatus(podSandboxId, request.Verbose);
        if (request.Verbose)
        {
            var check = await sandboxes.CheckPodNetworkAsync(podSandboxId, context.CancellationToken);
            response.Info["networkCheck"] = new JsonObject
            {
                ["performed"] = check.Performed,
                ["succeeded"] = check.Succeeded,
                ["message"] = check.Message,
            }.ToJsonString();
        }
        return response;
    }
}
