using System.Globalization;

namespace CriOci.OciRuntime.Cgroups;

/// <summary>
/// What a container's cgroup says it uses, in the units the CRI reports. The working set is
/// usage minus inactive file pages, as cAdvisor and kubelet's eviction compute it.
/// </summary>
public sealed record CgroupStats(
    ulong CpuUsageNanoseconds,
    ulong MemoryUsageBytes,
    ulong MemoryWorkingSetBytes,
    ulong MemoryRssBytes,
    ulong PageFaults,
    ulong MajorPageFaults,
    ulong ProcessCount)
{
    /// <summary>Reads the stats of <paramref name="cgroupPath"/> on every hierarchy that has the controller.</summary>
    public static CgroupStats Read(CgroupHierarchy hierarchy, string cgroupPath)
    {
        if (hierarchy.Mode == CgroupMode.Unified)
        {
            var directory = hierarchy.V2!.MountPoint + cgroupPath;
            var cpu = KeyValues(Path.Combine(directory, "cpu.stat"));
            var memoryStat = KeyValues(Path.Combine(directory, "memory.stat"));
            var usage = Number(Path.Combine(directory, "memory.current"));
            return new CgroupStats(
                cpu.GetValueOrDefault("usage_usec") * 1000,
                usage,
                Subtract(usage, memoryStat.GetValueOrDefault("inactive_file")),
                memoryStat.GetValueOrDefault("anon"),
                memoryStat.GetValueOrDefault("pgfault"),
                memoryStat.GetValueOrDefault("pgmajfault"),
                Number(Path.Combine(directory, "pids.current")));
        }
        string? Directory(string controller) =>
            hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains(controller)) is { } mount ? mount.MountPoint + cgroupPath : null;
        var memoryDirectory = Directory("memory");
        var v1Stat = memoryDirectory is null ? new Dictionary<string, ulong>() : KeyValues(Path.Combine(memoryDirectory, "memory.stat"));
        var v1Usage = memoryDirectory is null ? 0 : Number(Path.Combine(memoryDirectory, "memory.usage_in_bytes"));
        var cpuacct = Directory("cpuacct");
        var pids = Directory("pids");
        return new CgroupStats(
            cpuacct is null ? 0 : Number(Path.Combine(cpuacct, "cpuacct.usage")),
            v1Usage,
            Subtract(v1Usage, v1Stat.GetValueOrDefault("total_inactive_file")),
            v1Stat.GetValueOrDefault("total_rss"),
            v1Stat.GetValueOrDefault("total_pgfault"),
            v1Stat.GetValueOrDefault("total_pgmajfault"),
            pids is null ? 0 : Number(Path.Combine(pids, "pids.current")));
    }

    private static ulong Subtract(ulong a, ulong b) => a > b ? a - b : 0;

    private static ulong Number(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static Dictionary<string, ulong> KeyValues(string path)
    {
        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var space = line.IndexOf(' ');
                if (space > 0 && ulong.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    values[line[..space]] = value;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }
        return values;
    }
}
