using CriOci.Cri.V1;
using CriOci.PodSandbox.Metrics;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public IEnumerable<MetricDescriptor> ListMetricDescriptors() => CadvisorMetrics.Descriptors();

    public IReadOnlyList<PodSandboxMetrics> ListPodSandboxMetrics()
    {
        var images = _containers.ToDictionary(pair => pair.Key, pair => pair.Value.Record.ImageReference, StringComparer.Ordinal);
        return [.. ListPodSandboxStats(null).Select(stats => CadvisorMetrics.FromStats(stats, images))];
    }
}
