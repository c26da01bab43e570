using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Metrics;

/// <summary>
/// The cAdvisor-named metrics kubelet can take from the runtime instead of from cAdvisor
/// (ListMetricDescriptors / ListPodSandboxMetrics), built from the same numbers as the CRI
/// stats. Names, types and units follow cAdvisor's, so dashboards keep working.
/// </summary>
public static class CadvisorMetrics
{
    private static readonly string[] BaseLabels = ["id", "name", "image"];
    private static readonly string[] InterfaceLabels = ["id", "name", "image", "interface"];

    private sealed record Definition(string Name, string Help, MetricType Type, string[] Labels);

    private static readonly Definition CpuSeconds = new("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", MetricType.Counter, BaseLabels);
    private static readonly Definition MemoryUsage = new("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed.", MetricType.Gauge, BaseLabels);
    private static readonly Definition WorkingSet = new("container_memory_working_set_bytes", "Current working set in bytes.", MetricType.Gauge, BaseLabels);
    private static readonly Definition Rss = new("container_memory_rss", "Size of RSS in bytes.", MetricType.Gauge, BaseLabels);
    private static readonly Definition PageFaults = new("container_memory_failures_total", "Cumulative count of memory allocation failures (page faults).", MetricType.Counter, BaseLabels);
    private static readonly Definition Processes = new("container_processes", "Number of processes running inside the container.", MetricType.Gauge, BaseLabels);
    private static readonly Definition FsUsage = new("container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", MetricType.Gauge, BaseLabels);
    private static readonly Definition FsInodes = new("container_fs_inodes_total", "Number of inodes used by the container on this filesystem.", MetricType.Gauge, BaseLabels);
    private static readonly Definition RxBytes = new("container_network_receive_bytes_total", "Cumulative count of bytes received.", MetricType.Counter, InterfaceLabels);
    private static readonly Definition RxErrors = new("container_network_receive_errors_total", "Cumulative count of errors encountered while receiving.", MetricType.Counter, InterfaceLabels);
    private static readonly Definition TxBytes = new("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted.", MetricType.Counter, InterfaceLabels);
    private static readonly Definition TxErrors = new("container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting.", MetricType.Counter, InterfaceLabels);

    private static readonly Definition[] All = [CpuSeconds, MemoryUsage, WorkingSet, Rss, PageFaults, Processes, FsUsage, FsInodes, RxBytes, RxErrors, TxBytes, TxErrors];

    public static IEnumerable<MetricDescriptor> Descriptors()
    {
        foreach (var definition in All)
        {
            var descriptor = new MetricDescriptor { Name = definition.Name, Help = definition.Help };
            descriptor.LabelKeys.Add(definition.Labels);
            yield return descriptor;
        }
    }

    /// <param name="containerImages">Image reference per container ID, for the image label.</param>
    public static PodSandboxMetrics FromStats(PodSandboxStats pod, IReadOnlyDictionary<string, string> containerImages)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeNanoseconds();
        var podId = pod.Attributes.Id;
        var metrics = new PodSandboxMetrics { PodSandboxId = podId };
        string[] podLabels = [podId, pod.Attributes.Metadata?.Name ?? "", ""];
        if (pod.Linux?.Network is { } network)
        {
            foreach (var item in network.Interfaces)
            {
                string[] labels = [.. podLabels, item.Name];
                metrics.Metrics.Add(Metric(RxBytes, now, labels, item.RxBytes?.Value));
                metrics.Metrics.Add(Metric(RxErrors, now, labels, item.RxErrors?.Value));
                metrics.Metrics.Add(Metric(TxBytes, now, labels, item.TxBytes?.Value));
                metrics.Metrics.Add(Metric(TxErrors, now, labels, item.TxErrors?.Value));
            }
        }
        foreach (var container in pod.Linux?.Containers ?? [])
        {
            var id = container.Attributes.Id;
            string[] labels = [id, container.Attributes.Metadata?.Name ?? "", containerImages.GetValueOrDefault(id, "")];
            var item = new ContainerMetrics { ContainerId = id };
            if (container.Cpu is { } cpu)
            {
                item.Metrics.Add(Metric(CpuSeconds, now, labels, cpu.UsageCoreNanoSeconds?.Value / 1_000_000_000));
            }
            if (container.Memory is { } memory)
            {
                item.Metrics.Add(Metric(MemoryUsage, now, labels, memory.UsageBytes?.Value));
                item.Metrics.Add(Metric(WorkingSet, now, labels, memory.WorkingSetBytes?.Value));
                item.Metrics.Add(Metric(Rss, now, labels, memory.RssBytes?.Value));
                item.Metrics.Add(Metric(PageFaults, now, labels, memory.PageFaults?.Value));
            }
            if (container.WritableLayer is { } layer)
            {
                item.Metrics.Add(Metric(FsUsage, now, labels, layer.UsedBytes?.Value));
                item.Metrics.Add(Metric(FsInodes, now, labels, layer.InodesUsed?.Value));
            }
            metrics.ContainerMetrics.Add(item);
        }
        if (pod.Linux?.Process?.ProcessCount is { } processes)
        {
            metrics.Metrics.Add(Metric(Processes, now, podLabels, processes.Value));
        }
        return metrics;
    }

    private static Metric Metric(Definition definition, long timestamp, string[] labels, ulong? value)
    {
        var metric = new Metric
        {
            Name = definition.Name,
            Timestamp = timestamp,
            MetricType = definition.Type,
            Value = new UInt64Value { Value = value ?? 0 },
        };
        metric.LabelValues.Add(labels);
        return metric;
    }
}
