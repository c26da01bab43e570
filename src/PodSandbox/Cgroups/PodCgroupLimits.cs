using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;

namespace CriOci.PodSandbox.Cgroups;

/// <summary>
/// The limits of a pod's cgroup: kubelet's LinuxPodSandboxConfig.resources (already the sum of
/// its containers' resources) plus the RuntimeClass overhead, the same totals kubelet's cgroupfs
/// pod container manager writes (pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod) and that
/// containerd hands to sandbox runtimes as the io.kubernetes.cri.sandbox-cpu-*/memory annotations.
/// Pure, so every rule is unit-tested.
/// </summary>
internal static class PodCgroupLimits
{
    /// <summary>The CFS period kubelet uses when a limit names none (100 ms, in microseconds).</summary>
    public const long DefaultCpuPeriodMicroseconds = 100_000;

    /// <summary>The limits to apply, or null when neither resources nor overhead limit anything.</summary>
    public static ResourcesSpec? Sum(LinuxContainerResources? resources, LinuxContainerResources? overhead)
    {
        if (resources is null && overhead is null)
        {
            return null;
        }
        var memory = MemoryLimit(resources, overhead);
        var cpu = Cpu(resources, overhead);
        var hugepages = Hugepages(resources, overhead);
        var unified = resources?.Unified is { Count: > 0 } entries ? new Dictionary<string, string>(entries) : null;
        if (memory is null && cpu is null && hugepages is null && unified is null)
        {
            return null;
        }
        return new ResourcesSpec
        {
            Memory = memory is { } limit ? new MemorySpec { Limit = limit } : null,
            Cpu = cpu,
            HugepageLimits = hugepages,
            // unified holds raw cgroup2 file values ("memory.high", "cpu.weight"); they cannot be
            // summed with anything, so the pod's own entries are written as kubelet gave them.
            Unified = unified,
        };
    }

    /// <summary>
    /// A memory limit only when the containers' sum has one: a pod with one unlimited container
    /// is unlimited as a whole (kubelet leaves memory.limit unset then too); the overhead is on top.
    /// </summary>
    private static long? MemoryLimit(LinuxContainerResources? resources, LinuxContainerResources? overhead) =>
        resources is { MemoryLimitInBytes: > 0 } ? resources.MemoryLimitInBytes + Math.Max(0, overhead?.MemoryLimitInBytes ?? 0) : null;

    private static CpuSpec? Cpu(LinuxContainerResources? resources, LinuxContainerResources? overhead)
    {
        var shares = Math.Max(0, resources?.CpuShares ?? 0) + Math.Max(0, overhead?.CpuShares ?? 0);
        long? quota = null;
        long? period = null;
        // A quota only when the containers' sum has one (every container has a CPU limit), as for
        // memory; the overhead's quota is rescaled to the same period before it is added.
        if (resources is { CpuQuota: > 0 })
        {
            period = resources.CpuPeriod > 0 ? resources.CpuPeriod : DefaultCpuPeriodMicroseconds;
            quota = resources.CpuQuota;
            if (overhead is { CpuQuota: > 0 })
            {
                var overheadPeriod = overhead.CpuPeriod > 0 ? overhead.CpuPeriod : DefaultCpuPeriodMicroseconds;
                quota += overhead.CpuQuota * period.Value / overheadPeriod;
            }
        }
        // cpuset is a set, not an amount: the overhead runs on the pod's CPUs.
        var cpus = NonEmpty(resources?.CpusetCpus);
        var mems = NonEmpty(resources?.CpusetMems);
        if (shares == 0 && quota is null && cpus is null && mems is null)
        {
            return null;
        }
        return new CpuSpec
        {
            Shares = shares > 0 ? (ulong)shares : null,
            Quota = quota,
            Period = period is { } value ? (ulong)value : null,
            Cpus = cpus,
            Mems = mems,
        };
    }

    /// <summary>Per page size, the containers' sum plus the overhead's, for sizes the containers limit.</summary>
    private static List<HugepageLimitSpec>? Hugepages(LinuxContainerResources? resources, LinuxContainerResources? overhead)
    {
        if (resources is not { HugepageLimits.Count: > 0 })
        {
            return null;
        }
        return resources.HugepageLimits
            .GroupBy(h => h.PageSize, StringComparer.Ordinal)
            .Select(size => new HugepageLimitSpec
            {
                PageSize = size.Key,
                Limit = size.Aggregate(0UL, (total, h) => total + h.Limit)
                    + (overhead?.HugepageLimits.Where(h => h.PageSize == size.Key).Aggregate(0UL, (total, h) => total + h.Limit) ?? 0),
            })
            .ToList();
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
