using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;

namespace CriOci.PodSandbox.Cgroups;

/// <summary>
/// A pod's own cgroup (cgroupfs driver), on every v1 hierarchy and the cgroup2 one: kubelet's
/// cgroup_parent (/kubepods/burstable/pod&lt;uid&gt;) or /crioci/&lt;pod id&gt; for pods without one, with
/// the pod's limits (<see cref="PodCgroupLimits"/>). Every container's cgroupsPath is below it,
/// so the limits bound the pod as a whole, for the embedded runtime and for external runc-style
/// runtimes alike (they create the container's directory below an existing parent).
/// </summary>
/// <remarks>
/// Ownership: under kubelet the pod cgroup exists before RunPodSandbox (kubelet's pod container
/// manager creates and sizes it, and removes it once the pod is gone); like containerd and CRI-O
/// we never remove a cgroup we did not create. We create it when it is missing (crictl, tests,
/// kubelet with cgroups-per-qos off) and then remove it with the pod, recorded by a marker in the
/// pod's persistent record directory so a restarted daemon knows too. Missing ancestors
/// (/kubepods/burstable) are created but never removed: other pods may be creating cgroups below
/// them at that moment, and rmdir of a shared ancestor would race with them.
/// </remarks>
internal sealed class PodCgroup(CgroupHierarchy hierarchy)
{
    /// <summary>In the pod's record directory: the path of the pod cgroup this daemon created.</summary>
    public const string OwnedMarkerFile = "pod-cgroup";

    /// <summary>How long removal waits for processes that are exiting (a container's last ones) to leave.</summary>
    private static readonly TimeSpan RemoveRetryTime = TimeSpan.FromSeconds(2);

    /// <summary>Where containers of pods without a cgroup parent (crictl, tests) live, each pod in its own cgroup.</summary>
    public const string DefaultParent = "/crioci";

    /// <summary>The pod's cgroup path (validated where the CRI request is checked: absolute, no "..").</summary>
    public static string PathFor(string podSandboxId, PodSandboxConfig config) =>
        config.Linux?.CgroupParent is { Length: > 0 } parent && parent.Trim('/').Length > 0
            ? "/" + parent.Trim('/')
            : DefaultParent + "/" + podSandboxId;

    /// <summary>Creates the pod cgroup where missing and applies the limits; a pod cgroup that existed keeps its owner.</summary>
    public void Create(string cgroupPath, ResourcesSpec? limits, string recordDirectory)
    {
        var manager = new CgroupManager(hierarchy, cgroupPath);
        if (!manager.Directories.Any(d => Directory.Exists(d.Directory)))
        {
            // Recorded before mkdir: a daemon killed in between leaves a marker whose removal finds nothing.
            AtomicFile.WriteAllText(Path.Combine(recordDirectory, OwnedMarkerFile), cgroupPath);
        }
        manager.Create(limits);
    }

    /// <summary>New limits for a running pod (UpdatePodSandboxResources).</summary>
    public void Update(string cgroupPath, ResourcesSpec? limits) => new CgroupManager(hierarchy, cgroupPath).Update(limits);

    /// <summary>
    /// Removes the pod cgroup if this daemon created it; idempotent. Call it once the pod's
    /// containers are removed: a pod cgroup that still has child cgroups is in use by someone
    /// else's containers (a cgroup_parent shared by several pods) and is left in place.
    /// Throws <see cref="IOException"/> when processes stay inside it.
    /// </summary>
    /// <returns>False when the pod cgroup was left in place because child cgroups use it.</returns>
    public bool Remove(string recordDirectory)
    {
        var marker = Path.Combine(recordDirectory, OwnedMarkerFile);
        if (!File.Exists(marker))
        {
            return true;
        }
        var manager = new CgroupManager(hierarchy, File.ReadAllText(marker).Trim());
        var removed = true;
        foreach (var (_, directory) in manager.Directories)
        {
            removed &= RemoveDirectory(directory);
        }
        File.Delete(marker);
        return removed;
    }

    private static bool RemoveDirectory(string directory)
    {
        var deadline = DateTime.UtcNow + RemoveRetryTime;
        while (true)
        {
            if (!Directory.Exists(directory))
            {
                return true;
            }
            if (Directory.EnumerateDirectories(directory).Any())
            {
                return false;
            }
            try
            {
                Directory.Delete(directory); // rmdir(2): a cgroup's control files are not real files
                return true;
            }
            catch (DirectoryNotFoundException)
            {
                return true;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // EBUSY: a process that is exiting still counts until it is reaped.
                Thread.Sleep(20);
            }
        }
    }
}
