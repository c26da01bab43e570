using System.Collections.Concurrent;
using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    /// <summary>The previous CPU sample per container, for usage_nano_cores (a rate needs two points).</summary>
    private readonly ConcurrentDictionary<string, (long Timestamp, ulong UsageNanoseconds)> _cpuSamples = new(StringComparer.Ordinal);

    public ContainerStats ContainerStats(string containerId)
    {
        var id = Resolve(_containers, containerId) ?? throw new NotFoundException($"container {containerId} not found");
        return _containers.TryGetValue(id, out var container) ? Measure(container) : throw new NotFoundException($"container {containerId} not found");
    }

    public IReadOnlyList<ContainerStats> ListContainerStats(ContainerStatsFilter? filter)
    {
        var result = new List<ContainerStats>();
        foreach (var (id, container) in _containers)
        {
            if (filter is not null
                && (filter.Id.Length > 0 && !id.StartsWith(filter.Id, StringComparison.Ordinal)
                    || filter.PodSandboxId.Length > 0 && !container.Record.PodSandboxId.StartsWith(filter.PodSandboxId, StringComparison.Ordinal)
                    || !LabelsMatch(container.Config.Labels, filter.LabelSelector)))
            {
                continue;
            }
            result.Add(Measure(container));
        }
        return result;
    }

    private ContainerStats Measure(ContainerEntry container)
    {
        var id = container.Record.Id;
        var now = DateTimeOffset.UtcNow.ToUnixTimeNanoseconds();
        var attributes = new ContainerAttributes { Id = id, Metadata = container.Config.Metadata };
        attributes.Labels.Add(container.Config.Labels);
        attributes.Annotations.Add(container.Config.Annotations);
        var stats = new ContainerStats { Attributes = attributes, WritableLayer = WritableLayerUsage(id, now) };
        if (_runtime.Stats(id) is not { } cgroup)
        {
            return stats;
        }
        var cpu = new CpuUsage { Timestamp = now, UsageCoreNanoSeconds = new UInt64Value { Value = cgroup.CpuUsageNanoseconds } };
        if (CpuRate(id, now, cgroup.CpuUsageNanoseconds) is { } rate)
        {
            cpu.UsageNanoCores = new UInt64Value { Value = rate };
        }
        stats.Cpu = cpu;
        stats.Memory = new MemoryUsage
        {
            Timestamp = now,
            WorkingSetBytes = new UInt64Value { Value = cgroup.MemoryWorkingSetBytes },
            UsageBytes = new UInt64Value { Value = cgroup.MemoryUsageBytes },
            RssBytes = new UInt64Value { Value = cgroup.MemoryRssBytes },
            PageFaults = new UInt64Value { Value = cgroup.PageFaults },
            MajorPageFaults = new UInt64Value { Value = cgroup.MajorPageFaults },
        };
        return stats;
    }

    /// <summary>
    /// Nanocores since the previous sample of <paramref name="key"/> (a container or pod ID);
    /// null on the first sample or when the counter went backwards (a restarted cgroup).
    /// </summary>
    private ulong? CpuRate(string key, long now, ulong usageNanoseconds)
    {
        ulong? rate = null;
        if (_cpuSamples.TryGetValue(key, out var previous) && now > previous.Timestamp && usageNanoseconds >= previous.UsageNanoseconds)
        {
            var seconds = (now - previous.Timestamp) / 1e9;
            rate = (ulong)((usageNanoseconds - previous.UsageNanoseconds) / seconds);
        }
        _cpuSamples[key] = (now, usageNanoseconds);
        return rate;
    }

    /// <summary>Bytes and inodes of the container's overlay upper directory (what it wrote).</summary>
    private FilesystemUsage WritableLayerUsage(string id, long now)
    {
        var upper = Path.Combine(_containerStore.PathOf(id), "upper");
        ulong bytes = 0, inodes = 0;
        if (Directory.Exists(upper))
        {
            foreach (var entry in new DirectoryInfo(upper).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }))
            {
                inodes++;
                if (entry is FileInfo { LinkTarget: null } file)
                {
                    bytes += (ulong)file.Length;
                }
            }
        }
        return new FilesystemUsage
        {
            Timestamp = now,
            FsId = new FilesystemIdentifier { Mountpoint = upper },
            UsedBytes = new UInt64Value { Value = bytes },
            InodesUsed = new UInt64Value { Value = inodes },
        };
    }
}
