namespace CriOci.E2E.Fixtures;

/// <summary>What the host kernel says is left behind: mounts, cgroups and processes.</summary>
public static class HostInspection
{
    /// <summary>
    /// Mount points (from /proc/self/mountinfo) at or below <paramref name="directory"/>, only
    /// those of <paramref name="fileSystemType"/> when one is given ("nsfs": namespace pins).
    /// </summary>
    public static IReadOnlyList<string> MountsUnder(string directory, string? fileSystemType = null)
    {
        var prefix = directory.TrimEnd('/') + "/";
        return File.ReadAllLines("/proc/self/mountinfo")
            .Where(line => fileSystemType is null || FileSystemType(line) == fileSystemType)
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(mountPoint => mountPoint == directory || mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>proc(5): the file system type is the first field after the " - " separator.</summary>
    private static string FileSystemType(string mountinfoLine)
    {
        var separator = mountinfoLine.IndexOf(" - ", StringComparison.Ordinal);
        return separator < 0 ? "" : mountinfoLine[(separator + 3)..].Split(' ')[0];
    }

    /// <summary>Where every cgroup hierarchy (v1 controllers and cgroup2) is mounted.</summary>
    public static IReadOnlyList<string> CgroupHierarchies() =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Where(line => FileSystemType(line) is "cgroup" or "cgroup2")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Every cgroup below <paramref name="cgroupParent"/> (a cgroupfs path such as /crioci-e2e-1234)
    /// in every hierarchy, as "hierarchy:path"; the parent itself is not counted.
    /// </summary>
    public static IReadOnlyList<string> CgroupsUnder(string cgroupParent) =>
        CgroupHierarchies()
            .SelectMany(hierarchy => Descendants(Path.Combine(hierarchy, cgroupParent.TrimStart('/'))).Select(d => $"{Path.GetFileName(hierarchy)}:{d[hierarchy.Length..]}"))
            .ToList();

    /// <summary>The processes in any cgroup below <paramref name="cgroupParent"/> (a container's processes live there), as "pid: command line".</summary>
    public static IReadOnlyList<string> ProcessesInCgroupsUnder(string cgroupParent)
    {
        var pids = new SortedSet<int>();
        foreach (var hierarchy in CgroupHierarchies())
        {
            var parent = Path.Combine(hierarchy, cgroupParent.TrimStart('/'));
            foreach (var cgroup in Descendants(parent).Append(parent))
            {
                try
                {
                    foreach (var line in File.ReadAllLines(Path.Combine(cgroup, "cgroup.procs")))
                    {
                        pids.Add(int.Parse(line));
                    }
                }
                catch (IOException)
                {
                    // Removed while we looked, or not a cgroup directory.
                }
            }
        }
        return pids.Select(pid => $"{pid}: {CommandLineOf(pid)}").ToList();
    }

    /// <summary>Children of <paramref name="parentPid"/> that ended and were never reaped.</summary>
    public static IReadOnlyList<string> ZombieChildrenOf(int parentPid)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // proc(5) stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" && int.Parse(fields[1]) == parentPid)
                {
                    found.Add($"{pid}: {stat[..(stat.LastIndexOf(')') + 1)]}");
                }
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    /// <summary>Start time of a live process in clock ticks since boot (proc(5) stat field 22), or null once it is gone: with the PID it names one process.</summary>
    public static ulong? StartTimeOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : ulong.Parse(fields[19]);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Descendants(string cgroup) =>
        Directory.Exists(cgroup) ? Directory.EnumerateDirectories(cgroup, "*", SearchOption.AllDirectories).ToList() : [];

    private static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "(gone)";
        }
    }

    /// <summary>
    /// Command lines of live processes (other than <paramref name="exceptPid"/>) whose arguments
    /// mention <paramref name="text"/>. When <paramref name="exceptPid"/> is a daemon, the monitor
    /// it keeps on standby for its next create (`crioci-runtime monitor ... --request-fd`, its
    /// child; OciRuntime Launch.StandbyMonitor) is the daemon's, not a pod's, and is skipped too;
    /// one whose daemon is gone is no longer its child and is listed.
    /// </summary>
    public static IReadOnlyList<string> ProcessesMentioning(string text, int exceptPid = 0)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || pid == exceptPid)
            {
                continue;
            }
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var state = File.ReadAllText(Path.Combine(directory, "stat"));
                // proc(5) stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
                var fields = state[(state.LastIndexOf(')') + 2)..].Split(' ');
                var zombie = fields[0] == "Z";
                var standbyOfExcepted = exceptPid != 0 && fields[1] == exceptPid.ToString(System.Globalization.CultureInfo.InvariantCulture)
                    && commandLine.Contains(" monitor ", StringComparison.Ordinal) && commandLine.Contains(" --request-fd ", StringComparison.Ordinal);
                if (commandLine.Contains(text, StringComparison.Ordinal) && !zombie && !standbyOfExcepted)
                {
                    found.Add($"{pid}: {commandLine}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
