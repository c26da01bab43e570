using System.Globalization;
using CriOci.OciRuntime.Cgroups;

namespace CriOci.OciRuntime.Tests.Cgroups;

/// <summary>Where the kernel says processes and threads are, read from /proc and the cgroup files.</summary>
internal static class CgroupMembership
{
    /// <summary>The cgroup path of each hierarchy in /proc/PID/cgroup ("ID:controllers:path"), as seen from this process's cgroup namespace.</summary>
    public static IReadOnlyList<(string Hierarchy, string Path)> Of(string procCgroupFile) =>
        File.ReadAllLines(procCgroupFile).Where(line => line.Length > 0).Select(line =>
        {
            var second = line.IndexOf(':', line.IndexOf(':') + 1);
            return (line[..second], line[(second + 1)..]);
        }).ToList();

    /// <summary>Every hierarchy of <paramref name="procCgroupFile"/> at <paramref name="cgroupPath"/>; fails naming those that are not.</summary>
    public static void AssertAllAt(string procCgroupFile, string cgroupPath)
    {
        var membership = Of(procCgroupFile);
        Assert.NotEmpty(membership);
        var elsewhere = membership.Where(m => m.Path != cgroupPath).ToList();
        Assert.True(elsewhere.Count == 0, $"{procCgroupFile}: not in {cgroupPath} on {string.Join(", ", elsewhere.Select(m => $"{m.Hierarchy}:{m.Path}"))}");
    }

    /// <summary>The hierarchies on which a thread of <paramref name="pid"/> is in <paramref name="cgroupPath"/>, by thread.</summary>
    public static IReadOnlyList<string> ThreadsAt(int pid, string cgroupPath) =>
        Directory.GetDirectories($"/proc/{pid}/task")
            .SelectMany(task => Of(Path.Combine(task, "cgroup")).Where(m => m.Path == cgroupPath).Select(m => $"thread {Path.GetFileName(task)} on {m.Hierarchy}"))
            .ToList();

    /// <summary>The ids in a cgroup's cgroup.procs, tasks or cgroup.threads file.</summary>
    public static IReadOnlyList<int> Ids(string file) =>
        File.ReadAllLines(file).Where(line => line.Length > 0).Select(line => int.Parse(line, CultureInfo.InvariantCulture)).ToList();

    /// <summary>
    /// On every hierarchy, <paramref name="cgroupPath"/> holds <paramref name="pid"/> and nothing
    /// else: no other process, and no thread of another (v1 tasks, cgroup2 cgroup.threads).
    /// </summary>
    public static void AssertOnlyProcessIn(CgroupManager cgroup, int pid)
    {
        var threads = Directory.GetDirectories($"/proc/{pid}/task").Select(task => int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)).ToHashSet();
        foreach (var (mount, directory) in cgroup.Directories)
        {
            Assert.Equal([pid], Ids(Path.Combine(directory, "cgroup.procs")));
            var tasks = Ids(Path.Combine(directory, mount.IsV2 ? "cgroup.threads" : "tasks"));
            Assert.True(tasks.All(threads.Contains), $"{directory} holds threads other than {pid}'s: {string.Join(' ', tasks.Where(t => !threads.Contains(t)))}");
        }
    }
}
