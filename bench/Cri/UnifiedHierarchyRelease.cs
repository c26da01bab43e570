using CriOci.TestSupport;

namespace CriOci.Bench.Cri;

/// <summary>
/// crun 1.8 refuses a hybrid-cgroup host while the cgroup2 hierarchy (/sys/fs/cgroup/unified)
/// owns any controller ("cgroups in hybrid mode not supported, drop all controllers from
/// cgroupv2"). On this kind of machine it owns hugetlb from boot. A controller moves to a v1
/// hierarchy when no v2 cgroup enables it for its children and a v1 hierarchy is mounted with it,
/// so: clear it from every cgroup.subtree_control (deepest first), mount it at
/// /sys/fs/cgroup/NAME, and on dispose unmount it and enable it again where it was.
/// </summary>
public sealed class UnifiedHierarchyRelease : IAsyncDisposable
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
            await release.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var mountPoint in _mounted)
        {
            await CommandRunner.RunUncheckedAsync("umount", [mountPoint], TimeSpan.FromSeconds(30));
            try
            {
                Directory.Delete(mountPoint);
            }
            catch (IOException)
            {
            }
        }
        // The kernel returns the controller to cgroup2 once the v1 hierarchy is gone; that may take a moment.
        foreach (var (file, controller) in Enumerable.Reverse(_cleared))
        {
            for (var attempt = 0; attempt < 50 && File.Exists(file); attempt++)
            {
                try
                {
                    File.WriteAllText(file, "+" + controller);
                    break;
                }
                catch (IOException) when (attempt < 49)
                {
                    await Task.Delay(100);
                }
                catch (IOException)
                {
                    Console.Error.WriteLine($"crioci-bench: could not enable {controller} in {file} again");
                }
            }
        }
    }
}
