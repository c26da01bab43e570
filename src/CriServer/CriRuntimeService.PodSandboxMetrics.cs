using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    public override Task<ListMetricDescriptorsResponse> ListMetricDescriptors(ListMetricDescriptorsRequest request, ServerCallContext context)
    {
        var response = new ListMetricDescriptorsResponse();
        response.Descriptors.AddRange(sandboxes.ListMetricDescriptors());
        return Task.FromResult(response);
    }

    public override Task<ListPodSandboxMetricsResponse> ListPodSandboxMetrics(ListPodSandboxMetricsRequest request, ServerCallContext context)
    {
        var response = new ListPodSandboxMetricsResponse();
        response.PodMetrics.AddRange(sandboxes.ListPodSandboxMetrics());
        return Task.FromResult(response);
    }
}
