using CriOci.TestSupport;

namespace CriOci.Bench.Cri;

/// <summary>
/// crun 1.8 refuses a hybrid-cgroup host while the cgroup2 hierarchy (/sys/fs/cgroup/unified)
/// owns any controller ("cgroups in hybrid mode not supported, drop all controllers from
/// cgroupv2"). On this kind of machine it owns hugetlb from boot. A controller moves to a v1
/// hierarchy when no v2 cgroup enables it for its children and a v1 hierarchy is mounted with it,
/// so: clear it from every cgroup.subtree_control (deepest first) and mount it at
/// /sys/fs/cgroup/NAME; <see cref="RestoreAsync"/> tries to undo that.
/// </summary>
public sealed class UnifiedHierarchyRelease
{
    private const string Unified = "/sys/fs/cgroup/unified";

    private readonly List<(string File, string Controller)> _cleared = [];
    private readonly List<string> _mounted = [];

    private UnifiedHierarchyRelease()
    {
    }

    /// <summary>What was moved, for the report ("" when the host needed nothing).</summary>
    public string Description => _mounted.Count == 0 ? "" : $"moved {string.Join(", ", _mounted.Select(Path.GetFileName))} from cgroup2 to v1 for crun";

    public static async Task<UnifiedHierarchyRelease> ReleaseAsync(CancellationToken cancellationToken)
    {
        var release = new UnifiedHierarchyRelease();
        var controllersFile = Path.Combine(Unified, "cgroup.controllers");
        if (!File.Exists(controllersFile))
        {
            return release; // pure v1 or pure v2: crun's own business
        }
        try
        {
            var controllers = File.ReadAllText(controllersFile).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var controller in controllers)
            {
                var subtrees = Directory.EnumerateFiles(Unified, "cgroup.subtree_control", SearchOption.AllDirectories)
                    .OrderByDescending(path => path.Count(c => c == '/'));
                foreach (var subtree in subtrees)
                {
                    if (File.ReadAllText(subtree).Split(' ', StringSplitOptions.TrimEntries).Contains(controller))
                    {
                        File.WriteAllText(subtree, "-" + controller);
                        release._cleared.Add((subtree, controller));
                    }
                }
                var mountPoint = Path.Combine("/sys/fs/cgroup", controller);
                Directory.CreateDirectory(mountPoint);
                await CommandRunner.RunAsync("mount", ["-t", "cgroup", "-o", controller, "cgroup", mountPoint], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken);
                release._mounted.Add(mountPoint);
            }
            return release;
        }
        catch
        {
            await release.RestoreAsync();
            throw;
        }
    }

    /// <summary>
    /// Gives the controllers back to cgroup2: removes the empty cgroups the runtimes left in the
    /// v1 hierarchies (their parents, such as k8s.io/), unmounts them and enables the controllers
    /// where they were enabled. The kernel frees a v1 hierarchy only when nothing holds it; if a
    /// controller has not come back after a few seconds, its v1 hierarchy is mounted again, so
    /// the host is left in a consistent hybrid layout, and the returned note says so.
    /// </summary>
    public async Task<string> RestoreAsync()
    {
        var notes = new List<string>();
        foreach (var mountPoint in _mounted)
        {
            foreach (var cgroup in Directory.EnumerateDirectories(mountPoint, "*", SearchOption.AllDirectories).OrderByDescending(path => path.Length))
            {
                try
                {
                    Directory.Delete(cgroup);
                }
                catch (IOException)
                {
                    // Still has processes (another runtime's container).
                }
            }
            await CommandRunner.RunUncheckedAsync("umount", [mountPoint], TimeSpan.FromSeconds(30));
            var controller = Path.GetFileName(mountPoint);
            if (!await BackOnUnifiedAsync(controller))
            {
                await CommandRunner.RunAsync("mount", ["-t", "cgroup", "-o", controller, "cgroup", mountPoint], TimeSpan.FromSeconds(30));
                notes.Add($"{controller} did not return to cgroup2 (the kernel still holds its v1 hierarchy), so it stays mounted at {mountPoint}");
                continue;
            }
            Directory.Delete(mountPoint);
            foreach (var (file, _) in Enumerable.Reverse(_cleared).Where(c => c.Controller == controller && File.Exists(c.File)))
            {
                File.WriteAllText(file, "+" + controller);
            }
        }
        _mounted.Clear();
        return string.Join("; ", notes);
    }

    private static async Task<bool> BackOnUnifiedAsync(string controller)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (File.ReadAllText(Path.Combine(Unified, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries).Contains(controller))
            {
                return true;
            }
            await Task.Delay(100);
        }
        return false;
    }
}
