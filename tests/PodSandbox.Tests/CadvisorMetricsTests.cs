using CriOci.Cri.V1;
using CriOci.PodSandbox.Metrics;

namespace CriOci.PodSandbox.Tests;

public sealed class CadvisorMetricsTests
{
    [Fact]
    public void FromStats_EveryMetricHasADescriptorAndOneValuePerLabel()
    {
        var container = new ContainerStats
        {
            Attributes = new ContainerAttributes { Id = "c1", Metadata = new ContainerMetadata { Name = "web" } },
            Cpu = new CpuUsage { UsageCoreNanoSeconds = new UInt64Value { Value = 3_500_000_000 } },
            Memory = new MemoryUsage { WorkingSetBytes = new UInt64Value { Value = 4096 }, UsageBytes = new UInt64Value { Value = 8192 } },
            WritableLayer = new FilesystemUsage { UsedBytes = new UInt64Value { Value = 10 }, InodesUsed = new UInt64Value { Value = 2 } },
        };
        var linux = new LinuxPodSandboxStats
        {
            Network = new NetworkUsage { Interfaces = { new NetworkInterfaceUsage { Name = "eth0", RxBytes = new UInt64Value { Value = 99 } } } },
            Process = new ProcessUsage { ProcessCount = new UInt64Value { Value = 3 } },
            Containers = { container },
        };
        var pod = new PodSandboxStats { Attributes = new PodSandboxAttributes { Id = "p1", Metadata = new PodSandboxMetadata { Name = "pod" } }, Linux = linux };

        var metrics = CadvisorMetrics.FromStats(pod, new Dictionary<string, string> { ["c1"] = "busybox:latest" });

        var descriptors = CadvisorMetrics.Descriptors().ToDictionary(d => d.Name);
        var all = metrics.Metrics.Concat(metrics.ContainerMetrics.SelectMany(c => c.Metrics)).ToList();
        Assert.All(all, metric => Assert.Equal(descriptors[metric.Name].LabelKeys.Count, metric.LabelValues.Count));
        var containerMetrics = Assert.Single(metrics.ContainerMetrics);
        Assert.Equal("c1", containerMetrics.ContainerId);
        Assert.Equal(3UL, containerMetrics.Metrics.Single(m => m.Name == "container_cpu_usage_seconds_total").Value.Value);
        var workingSet = containerMetrics.Metrics.Single(m => m.Name == "container_memory_working_set_bytes");
        Assert.Equal(4096UL, workingSet.Value.Value);
        Assert.Equal(["c1", "web", "busybox:latest"], workingSet.LabelValues);
        var received = metrics.Metrics.Single(m => m.Name == "container_network_receive_bytes_total");
        Assert.Equal(99UL, received.Value.Value);
        Assert.Equal(MetricType.Counter, received.MetricType);
        Assert.Equal("eth0", received.LabelValues[3]);
        Assert.Equal(3UL, metrics.Metrics.Single(m => m.Name == "container_processes").Value.Value);
    }
}
