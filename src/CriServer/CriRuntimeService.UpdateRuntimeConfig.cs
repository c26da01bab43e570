using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// The only field is network_config.pod_cidr, which kubelet sends once it learns the node's
    /// CIDR. It becomes the subnet of the built-in default network for pods started from now on
    /// (containerd feeds it into its CNI config template the same way); a network from the CNI
    /// config directory brings its own IPAM and ignores it.
    /// </summary>
    public override Task<UpdateRuntimeConfigResponse> UpdateRuntimeConfig(UpdateRuntimeConfigRequest request, ServerCallContext context)
    {
        var podCidr = request.RuntimeConfig?.NetworkConfig?.PodCidr;
        if (!string.IsNullOrEmpty(podCidr))
        {
            logger.PodCidrReceived(podCidr);
            sandboxes.UpdatePodCidr(podCidr);
        }
        return Task.FromResult(new UpdateRuntimeConfigResponse());
    }
}
