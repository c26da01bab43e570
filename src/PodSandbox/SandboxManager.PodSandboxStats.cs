using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public PodSandboxStats PodSandboxStats(string podSandboxId)
    {
        var id = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        return _sandboxes.TryGetValue(id, out var sandbox) ? MeasurePod(sandbox) : throw new NotFoundException($"pod sandbox {podSandboxId} not found");
    }

    public IReadOnlyList<PodSandboxStats> ListPodSandboxStats(PodSandboxStatsFilter? filter)
    {
        var result = new List<PodSandboxStats>();
        foreach (var (id, sandbox) in _sandboxes)
        {
            if (filter is not null
                && (filter.Id.Length > 0 && !id.StartsWith(filter.Id, StringComparison.Ordinal)
                    || !LabelsMatch(sandbox.Config.Labels, filter.LabelSelector)))
            {
                continue;
            }
            result.Add(MeasurePod(sandbox));
        }
        return result;
    }

    /// <summary>
    /// The pod's usage is the sum of its containers' (a pod has no processes of its own: no
    /// pause container), plus the interface counters of its network namespace.
    /// </summary>
    private PodSandboxStats MeasurePod(SandboxEntry sandbox)
    {
        var id = sandbox.Record.Id;
        var now = DateTimeOffset.UtcNow.ToUnixTimeNanoseconds();
        var attributes = new PodSandboxAttributes { Id = id, Metadata = sandbox.Config.Metadata };
        attributes.Labels.Add(sandbox.Config.Labels);
        attributes.Annotations.Add(sandbox.Config.Annotations);
        var linux = new LinuxPodSandboxStats();
        ulong cpu = 0, usage = 0, workingSet = 0, rss = 0, faults = 0, majorFaults = 0, processes = 0;
        foreach (var container in _containers.Values.Where(c => c.Record.PodSandboxId == id))
        {
            var stats = Measure(container);
            linux.Containers.Add(stats);
            cpu += stats.Cpu?.UsageCoreNanoSeconds?.Value ?? 0;
            usage += stats.Memory?.UsageBytes?.Value ?? 0;
            workingSet += stats.Memory?.WorkingSetBytes?.Value ?? 0;
            rss += stats.Memory?.RssBytes?.Value ?? 0;
            faults += stats.Memory?.PageFaults?.Value ?? 0;
            majorFaults += stats.Memory?.MajorPageFaults?.Value ?? 0;
            processes += _runtime.Stats(container.Record.Id)?.ProcessCount ?? 0;
        }
        linux.Cpu = new CpuUsage { Timestamp = now, UsageCoreNanoSeconds = new UInt64Value { Value = cpu } };
        if (CpuRate("pod/" + id, now, cpu) is { } rate)
        {
            linux.Cpu.UsageNanoCores = new UInt64Value { Value = rate };
        }
        linux.Memory = new MemoryUsage
        {
            Timestamp = now,
            UsageBytes = new UInt64Value { Value = usage },
            WorkingSetBytes = new UInt64Value { Value = workingSet },
            RssBytes = new UInt64Value { Value = rss },
            PageFaults = new UInt64Value { Value = faults },
            MajorPageFaults = new UInt64Value { Value = majorFaults },
        };
        linux.Process = new ProcessUsage { Timestamp = now, ProcessCount = new UInt64Value { Value = processes } };
        linux.Network = NetworkUsage(sandbox.Record, now);
        return new PodSandboxStats { Attributes = attributes, Linux = linux };
    }

    /// <summary>Counters of the pod's own interfaces; none for host-network pods (they would be the node's) or stopped ones.</summary>
    private NetworkUsage? NetworkUsage(Storage.SandboxRecord record, long now)
    {
        if (!record.Ready || record.NetworkNamespace is not { } netns)
        {
            return null;
        }
        IReadOnlyList<InterfaceCounters> counters;
        try
        {
            counters = NetworkNamespaceThread.Run(netns, () => InterfaceCounters.ParseProcNetDev(File.ReadAllText("/proc/thread-self/net/dev")));
        }
        catch (Exception exception) when (exception is IOException or OciRuntime.Linux.SyscallException)
        {
            Log.StatsUnavailable(_logger, record.Id, exception.Message);
            return null;
        }
        var usage = new NetworkUsage { Timestamp = now };
        foreach (var counter in counters)
        {
            var item = new NetworkInterfaceUsage
            {
                Name = counter.Name,
                RxBytes = new UInt64Value { Value = counter.RxBytes },
                RxErrors = new UInt64Value { Value = counter.RxErrors },
                TxBytes = new UInt64Value { Value = counter.TxBytes },
                TxErrors = new UInt64Value { Value = counter.TxErrors },
            };
            usage.Interfaces.Add(item);
            if (counter.Name == CniInvoker.InterfaceName)
            {
                usage.DefaultInterface = item;
            }
        }
        return usage;
    }
}
