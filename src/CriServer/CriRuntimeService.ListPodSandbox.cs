using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>An absent filter lists every pod sandbox.</summary>
    public override Task<ListPodSandboxResponse> ListPodSandbox(ListPodSandboxRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxResponse();
        response.Items.AddRange(sandboxes.ListPodSandbox(request.Filter));
        return Task.FromResult(response);
    }
}
