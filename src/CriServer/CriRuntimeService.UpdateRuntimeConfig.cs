using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// The only field is network_config.pod_cidr, which kubelet sends once it learns the node's
    /// CIDR; it matters only to CNI, which is not implemented yet. containerd also just records it
    /// for its CNI config template. Accepting it is truthful: nothing else is asked of us.
    /// </summary>
    public override Task<UpdateRuntimeConfigResponse> UpdateRuntimeConfig(UpdateRuntimeConfigRequest request, ServerCallContext context)
    {
        var podCidr = request.RuntimeConfig?.NetworkConfig?.PodCidr;
        if (!string.IsNullOrEmpty(podCidr))
        {
            logger.PodCidrReceived(podCidr);
        }
        return Task.FromResult(new UpdateRuntimeConfigResponse());
    }
}
