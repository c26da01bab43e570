using System.Globalization;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// The cgroup a new process is to start in: its directory on each cgroup v1 hierarchy, and on
/// the cgroup2 one when the host mounts it (hybrid or unified).
/// </summary>
public sealed record CgroupPlacement(IReadOnlyList<string> V1Directories, string? V2Directory)
{
    /// <summary>
    /// Moves a running process in, through each hierarchy's cgroup.procs. That moves a whole
    /// thread group, for which the kernel write-locks its global cgroup_threadgroup_rwsem (an
    /// RCU grace period: milliseconds on a busy node): only for a process that could not be
    /// born in place (<see cref="NativeSpawn"/>).
    /// </summary>
    public void MoveProcess(int pid)
    {
        var text = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in V2Directory is null ? V1Directories : V1Directories.Append(V2Directory))
        {
            File.WriteAllText(Path.Combine(directory, "cgroup.procs"), text);
        }
    }
}
