namespace CriOci.OciRuntime.Linux;

/// <summary>One line of /proc/PID/uid_map or gid_map: ids ContainerId.. inside are HostId.. outside, Size of them.</summary>
public sealed record IdRange(uint ContainerId, uint HostId, uint Size);

/// <summary>
/// The user namespace a spawned process starts in: a new one with these maps (written by the
/// parent while the child waits), or an existing one joined by path.
/// </summary>
/// <param name="BeforeStart">
/// Runs with the child's pid while it still waits, before it has run anything of its own: the
/// place for host-side work it can no longer do itself once in the namespace (joining a cgroup
/// owned by the host's root).
/// </param>
public sealed record UserNamespaceRequest(
    string? JoinPath,
    IReadOnlyList<IdRange> UidMappings,
    IReadOnlyList<IdRange> GidMappings,
    Action<int>? BeforeStart = null)
{
    /// <summary>The text for /proc/PID/uid_map or gid_map: one "inside outside count" line per range.</summary>
    public static string MapText(IReadOnlyList<IdRange> ranges) =>
        string.Concat(ranges.Select(r => FormattableString.Invariant($"{r.ContainerId} {r.HostId} {r.Size}\n")));
}
