using System.Globalization;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>A value for one control file; <see cref="Controller"/> picks the v1 hierarchy.</summary>
public sealed record CgroupWrite(string Controller, string File, string Value);

/// <summary>
/// Maps OCI linux.resources to cgroup control files (runtime-spec config-linux.md; the file
/// names are the kernel's, Documentation/admin-guide/cgroup-v1 and cgroup-v2.rst). Pure, so
/// every mapping is unit-tested; <see cref="CgroupManager"/> writes them.
/// </summary>
public static class ResourceFiles
{
    public const string RealtimeRuntimeFile = "cpu.rt_runtime_us";
    public const string RealtimePeriodFile = "cpu.rt_period_us";

    public static IReadOnlyList<CgroupWrite> ForV1(ResourcesSpec? resources, bool hugetlbOnV1)
    {
        var writes = new List<CgroupWrite>();
        if (resources is null)
        {
            return writes;
        }
        if (resources.Unified is { Count: > 0 })
        {
            throw new Core.InvalidArgumentException("linux.resources.unified needs cgroup v2; this host's controllers are on cgroup v1");
        }
        if (resources.Memory is { } memory)
        {
            // The kernel refuses a memory limit above memory+swap, so when both grow the
            // swap limit must go first; CgroupManager retries in the other order on EINVAL.
            if (memory.Swap is { } swap)
            {
                writes.Add(new("memory", "memory.memsw.limit_in_bytes", Number(swap)));
            }
            if (memory.Limit is { } limit)
            {
                writes.Add(new("memory", "memory.limit_in_bytes", Number(limit)));
            }
            if (memory.Reservation is { } reservation)
            {
                writes.Add(new("memory", "memory.soft_limit_in_bytes", Number(reservation)));
            }
            if (memory.Swappiness is { } swappiness and <= 100)
            {
                writes.Add(new("memory", "memory.swappiness", Number((long)swappiness)));
            }
            if (memory.DisableOOMKiller == true)
            {
                writes.Add(new("memory", "memory.oom_control", "1"));
            }
        }
        if (resources.Cpu is { } cpu)
        {
            if (cpu.Shares is { } shares and > 0)
            {
                writes.Add(new("cpu", "cpu.shares", Number((long)shares)));
            }
            if (cpu.Period is { } period and > 0)
            {
                writes.Add(new("cpu", "cpu.cfs_period_us", Number((long)period)));
            }
            if (cpu.Quota is { } quota and not 0)
            {
                writes.Add(new("cpu", "cpu.cfs_quota_us", Number(quota)));
            }
            // Period before runtime: a runtime longer than the current period is refused, and
            // CgroupManager tries the other order when the period shrinks below the old runtime.
            if (cpu.RealtimePeriod is { } realtimePeriod and > 0)
            {
                writes.Add(new("cpu", RealtimePeriodFile, Number((long)realtimePeriod)));
            }
            if (cpu.RealtimeRuntime is { } realtimeRuntime)
            {
                writes.Add(new("cpu", RealtimeRuntimeFile, Number(realtimeRuntime)));
            }
            if (!string.IsNullOrEmpty(cpu.Cpus))
            {
                writes.Add(new("cpuset", "cpuset.cpus", cpu.Cpus));
            }
            if (!string.IsNullOrEmpty(cpu.Mems))
            {
                writes.Add(new("cpuset", "cpuset.mems", cpu.Mems));
            }
        }
        if (resources.Pids is { } pids)
        {
            writes.Add(new("pids", "pids.max", pids.Limit > 0 ? Number(pids.Limit) : "max"));
        }
        if (hugetlbOnV1)
        {
            foreach (var hugepage in resources.HugepageLimits ?? [])
            {
                writes.Add(new("hugetlb", $"hugetlb.{hugepage.PageSize}.limit_in_bytes", Number((long)hugepage.Limit)));
            }
        }
        if (resources.Devices is { Count: > 0 } devices)
        {
            foreach (var device in devices)
            {
                writes.Add(new("devices", device.Allow ? "devices.allow" : "devices.deny", DeviceRule(device)));
            }
        }
        return writes;
    }

    /// <summary>Files in the container's cgroup2 directory. Controller is empty: v2 has one hierarchy.</summary>
    public static IReadOnlyList<CgroupWrite> ForV2(ResourcesSpec? resources, bool hugetlbOnly = false)
    {
        var writes = new List<CgroupWrite>();
        if (resources is null)
        {
            return writes;
        }
        foreach (var hugepage in resources.HugepageLimits ?? [])
        {
            writes.Add(new("hugetlb", $"hugetlb.{hugepage.PageSize}.max", Number((long)hugepage.Limit)));
        }
        if (hugetlbOnly)
        {
            return writes;
        }
        if (resources.Memory is { } memory)
        {
            if (memory.Limit is { } limit)
            {
                writes.Add(new("memory", "memory.max", Max(limit)));
            }
            if (memory.Reservation is { } reservation)
            {
                writes.Add(new("memory", "memory.low", Max(reservation)));
            }
            if (memory.Swap is { } swap)
            {
                // OCI's swap is memory+swap (v1 semantics); cgroup2 limits swap alone.
                var swapOnly = swap == -1 ? "max" : Number(Math.Max(0, swap - (memory.Limit ?? 0)));
                writes.Add(new("memory", "memory.swap.max", swapOnly));
            }
        }
        if (resources.Cpu is { } cpu)
        {
            if (cpu.RealtimeRuntime is not null || cpu.RealtimePeriod is not null)
            {
                throw new Core.InvalidArgumentException(
                    "linux.resources.cpu.realtimeRuntime and realtimePeriod need the cgroup v1 cpu controller; cgroup v2 has no real-time group budgets");
            }
            if (cpu.Shares is { } shares and > 0)
            {
                writes.Add(new("cpu", "cpu.weight", Number(SharesToWeight(shares))));
            }
            if (cpu.Quota is not null || cpu.Period is not null)
            {
                var period = cpu.Period is { } p and > 0 ? p : 100_000UL;
                var quota = cpu.Quota is { } q and > 0 ? Number(q) : "max";
                writes.Add(new("cpu", "cpu.max", $"{quota} {period}"));
            }
            if (!string.IsNullOrEmpty(cpu.Cpus))
            {
                writes.Add(new("cpuset", "cpuset.cpus", cpu.Cpus));
            }
            if (!string.IsNullOrEmpty(cpu.Mems))
            {
                writes.Add(new("cpuset", "cpuset.mems", cpu.Mems));
            }
        }
        if (resources.Pids is { } pids)
        {
            writes.Add(new("pids", "pids.max", pids.Limit > 0 ? Number(pids.Limit) : "max"));
        }
        foreach (var (key, value) in resources.Unified ?? new Dictionary<string, string>())
        {
            if (key.Contains('/') || key.StartsWith('.') || !key.Contains('.'))
            {
                throw new Core.InvalidArgumentException($"linux.resources.unified: invalid key {key}");
            }
            writes.Add(new(key[..key.IndexOf('.')], key, value));
        }
        return writes;
    }

    /// <summary>The conversion runc and crun use from cgroup v1 shares [2, 262144] to v2 weight [1, 10000].</summary>
    public static long SharesToWeight(ulong shares) =>
        shares == 0 ? 0 : 1 + (long)((Math.Clamp(shares, 2UL, 262144UL) - 2) * 9999 / 262142);

    private static string DeviceRule(DeviceCgroupSpec device)
    {
        var type = string.IsNullOrEmpty(device.Type) ? "a" : device.Type;
        var major = device.Major is { } ma and >= 0 ? Number(ma) : "*";
        var minor = device.Minor is { } mi and >= 0 ? Number(mi) : "*";
        var access = string.IsNullOrEmpty(device.Access) ? "rwm" : device.Access;
        return type == "a" ? "a" : $"{type} {major}:{minor} {access}";
    }

    private static string Max(long value) => value < 0 ? "max" : Number(value);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
