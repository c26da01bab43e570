using CriOci.TestSupport;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// crun (1.8, Debian 12) refuses a hybrid-cgroup host while the cgroup2 hierarchy owns any
/// controller ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2").
/// Hosts like CI's boot with hugetlb on cgroup2. A controller leaves cgroup2 when no cgroup
/// enables it for its children and a v1 hierarchy with it is mounted, so: clear it from every
/// cgroup.subtree_control (deepest first) and mount it at /sys/fs/cgroup/NAME, as bench/Cri does
/// for containerd. Left that way: giving it back needs every v1 cgroup gone, and the daemon and
/// runc work the same in either layout.
/// </summary>
public static class HybridCgroupsForCrun
{
    private const string Unified = "/sys/fs/cgroup/unified";

    public static async Task EnsureAsync()
    {
        var controllersFile = Path.Combine(Unified, "cgroup.controllers");
        if (!File.Exists(controllersFile))
        {
            return; // pure v1 or pure v2: crun handles both
        }
        foreach (var controller in Controllers(controllersFile))
        {
            foreach (var subtree in Directory.EnumerateFiles(Unified, "cgroup.subtree_control", SearchOption.AllDirectories)
                .OrderByDescending(path => path.Count(c => c == '/')))
            {
                if (File.ReadAllText(subtree).Split(' ', StringSplitOptions.TrimEntries).Contains(controller))
                {
                    File.WriteAllText(subtree, "-" + controller);
                }
            }
            var mountPoint = Path.Combine("/sys/fs/cgroup", controller);
            Directory.CreateDirectory(mountPoint);
            await CommandRunner.RunAsync("mount", ["-t", "cgroup", "-o", controller, "cgroup", mountPoint], TimeSpan.FromSeconds(30));
        }
        var left = Controllers(controllersFile);
        if (left.Count > 0)
        {
            throw new InvalidOperationException(
                $"crun cannot run on this hybrid-cgroup host: cgroup2 at {Unified} still owns {string.Join(", ", left)} after moving them to v1 hierarchies; " +
                "boot with systemd.unified_cgroup_hierarchy=1 (pure v2) or free those controllers by hand");
        }
    }

    private static List<string> Controllers(string file) =>
        [.. File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
