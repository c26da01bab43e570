namespace CriOci.OciRuntime.Cgroups;

/// <summary>How the host mounts cgroups.</summary>
public enum CgroupMode
{
    /// <summary>Only v1 controller hierarchies.</summary>
    Legacy,
    /// <summary>v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified), as systemd's "hybrid" layout.</summary>
    Hybrid,
    /// <summary>One cgroup2 hierarchy at /sys/fs/cgroup.</summary>
    Unified,
}

/// <summary>One mounted hierarchy: a v1 hierarchy with its controllers, or the cgroup2 one.</summary>
public sealed record CgroupMount(string MountPoint, bool IsV2, IReadOnlySet<string> Controllers);

/// <summary>The host's cgroup hierarchies, read once from /proc/self/mountinfo.</summary>
public sealed record CgroupHierarchy(CgroupMode Mode, IReadOnlyList<CgroupMount> Mounts)
{
    private static readonly Lazy<CgroupHierarchy> Host = new(() => Parse(File.ReadAllLines("/proc/self/mountinfo")));

    public static CgroupHierarchy Detect() => Host.Value;

    public CgroupMount? V2 => Mounts.FirstOrDefault(m => m.IsV2);

    public IEnumerable<CgroupMount> V1 => Mounts.Where(m => !m.IsV2);

    /// <summary>Parses mountinfo lines (proc(5)); pure, for tests.</summary>
    public static CgroupHierarchy Parse(IEnumerable<string> mountinfo)
    {
        var mounts = new List<CgroupMount>();
        foreach (var line in mountinfo)
        {
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }
            var fields = line[..separator].Split(' ');
            var tail = line[(separator + 3)..].Split(' ');
            if (fields.Length < 5 || tail.Length < 3)
            {
                continue;
            }
            var mountPoint = fields[4].Replace("\\040", " ");
            if (tail[0] == "cgroup2")
            {
                mounts.Add(new CgroupMount(mountPoint, true, new HashSet<string>()));
            }
            else if (tail[0] == "cgroup")
            {
                var controllers = tail[2].Split(',')
                    .Where(o => o is not ("rw" or "ro") && !o.StartsWith("release_agent", StringComparison.Ordinal)
                        && !o.StartsWith("clone_children", StringComparison.Ordinal) && !o.StartsWith("xattr", StringComparison.Ordinal)
                        && !o.StartsWith("nsroot", StringComparison.Ordinal) && o != "noprefix" && o != "cpuset_v2_mode")
                    .ToHashSet(StringComparer.Ordinal);
                // Co-mounted controllers (cpu,cpuacct) appear once per mount point.
                if (mounts.All(m => m.MountPoint != mountPoint))
                {
                    mounts.Add(new CgroupMount(mountPoint, false, controllers));
                }
            }
        }
        var hasV1 = mounts.Any(m => !m.IsV2);
        var hasV2 = mounts.Any(m => m.IsV2);
        var mode = hasV1 ? (hasV2 ? CgroupMode.Hybrid : CgroupMode.Legacy) : CgroupMode.Unified;
        return new CgroupHierarchy(mode, mounts);
    }
}
