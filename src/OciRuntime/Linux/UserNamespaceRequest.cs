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
    /// <summary>
    /// The host's uid and gid of the namespace's root: from the maps of a new namespace, from
    /// /proc/PID/uid_map and gid_map for one joined as /proc/PID/ns/user, from the maps given
    /// beside a bind-mounted namespace file (containerd and CriOci write them: only a process
    /// inside could read its maps); null when unknown.
    /// </summary>
    public (uint Uid, uint Gid)? RootOnHost()
    {
        var (uids, gids) = JoinPath is null ? (UidMappings, GidMappings)
            : JoinedMaps() is { } joined ? (joined.Uids, joined.Gids)
            : (UidMappings, GidMappings);
        return HostIdOfRoot(uids) is { } uid && HostIdOfRoot(gids) is { } gid ? (uid, gid) : null;
    }

    /// <summary>The maps of a namespace joined as /proc/PID/ns/user, read from that process; null for any other path.</summary>
    public (List<IdRange> Uids, List<IdRange> Gids)? JoinedMaps()
    {
        var match = System.Text.RegularExpressions.Regex.Match(JoinPath ?? "", "^/proc/([0-9]+)/ns/user$");
        if (!match.Success)
        {
            return null;
        }
        try
        {
            var pid = match.Groups[1].Value;
            return (ReadMap($"/proc/{pid}/uid_map"), ReadMap($"/proc/{pid}/gid_map"));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static uint? HostIdOfRoot(IReadOnlyList<IdRange> ranges) =>
        ranges.FirstOrDefault(r => r.ContainerId == 0)?.HostId;

    private static List<IdRange> ReadMap(string path) =>
        File.ReadLines(path)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 3)
            .Select(fields => new IdRange(
                uint.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture),
                uint.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture),
                uint.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>The text for /proc/PID/uid_map or gid_map: one "inside outside count" line per range.</summary>
    public static string MapText(IReadOnlyList<IdRange> ranges) =>
        string.Concat(ranges.Select(r => FormattableString.Invariant($"{r.ContainerId} {r.HostId} {r.Size}\n")));
}
