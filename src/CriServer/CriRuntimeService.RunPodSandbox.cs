using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// Name, UID and namespace identify the pod (kubelet builds the sandbox name from them);
    /// a sandbox without them could never be matched to its pod again.
    /// </summary>
    public override async Task<RunPodSandboxResponse> RunPodSandbox(RunPodSandboxRequest request, ServerCallContext context)
    {
        var config = Required(request.Config, "config");
        var metadata = Required(config.Metadata, "config.metadata");
        Required(metadata.Name, "config.metadata.name");
        Required(metadata.Uid, "config.metadata.uid");
        Required(metadata.Namespace, "config.metadata.namespace");

        var podSandboxId = await sandboxes.RunPodSandboxAsync(config, request.RuntimeHandler, context.CancellationToken);
        return new RunPodSandboxResponse { PodSandboxId = podSandboxId };
    }
}
