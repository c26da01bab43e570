using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// Checkpointing needs CRIU driving the runtime (dump of the init's process tree, its
    /// mounts and namespaces) and restore on the other side; the embedded runtime has neither
    /// yet. Say so plainly, as kubelet shows this message to whoever asked for the checkpoint.
    /// </summary>
    public override Task<CheckpointContainerResponse> CheckpointContainer(CheckpointContainerRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented,
            "CheckpointContainer is not supported by crioci: the embedded runtime has no CRIU integration yet"));
}
