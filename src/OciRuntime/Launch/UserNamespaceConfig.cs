using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// linux.namespaces "user" with linux.uidMappings and linux.gidMappings (runtime-spec
/// config-linux.md "User namespace mappings"), judged before anything of the container exists,
/// so a bad configuration leaves no state directory, cgroup or mount behind.
/// </summary>
public static class UserNamespaceConfig
{
    /// <summary>user_namespaces(7): at most 340 lines per map.</summary>
    private const int MaxRanges = 340;

    /// <summary>A map must be written in one write(2) shorter than a page.</summary>
    private const int MaxMapTextBytes = 4095;

    /// <summary>The user namespace to create or join; null when the container stays in the runtime's.</summary>
    public static UserNamespaceRequest? FromSpec(RuntimeSpec spec)
    {
        var entries = spec.Linux?.Namespaces?.Where(n => n?.Type == "user").ToList() ?? [];
        var uidMappings = spec.Linux?.UidMappings ?? [];
        var gidMappings = spec.Linux?.GidMappings ?? [];
        if (entries.Count == 0)
        {
            if (uidMappings.Count > 0 || gidMappings.Count > 0)
            {
                throw new Core.InvalidArgumentException("linux.uidMappings/gidMappings are set but linux.namespaces has no user namespace");
            }
            return null;
        }
        if (entries.Count > 1)
        {
            throw new Core.InvalidArgumentException("linux.namespaces: the user namespace is listed more than once");
        }
        var uids = Ranges("linux.uidMappings", uidMappings);
        var gids = Ranges("linux.gidMappings", gidMappings);
        if (entries[0].Path is { Length: > 0 } path)
        {
            // The joined namespace's maps are fixed already; runc takes mappings beside a path
            // as a description of it (containerd writes both), checked where they can be read.
            var joined = new UserNamespaceRequest(path, uids, gids);
            if ((uids.Count > 0 || gids.Count > 0) && joined.JoinedMaps() is { } actual)
            {
                RequireSame("linux.uidMappings", uids, actual.Uids, path);
                RequireSame("linux.gidMappings", gids, actual.Gids, path);
            }
            return joined;
        }
        if (uids.Count == 0 || gids.Count == 0)
        {
            throw new Core.InvalidArgumentException(
                "linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings (or a path to join an existing one)");
        }
        RequireRoot("linux.uidMappings", uids);
        RequireRoot("linux.gidMappings", gids);
        return new UserNamespaceRequest(null, uids, gids);
    }

    /// <summary>Checked maps: sizes above 0, no id past 4294967294, no overlap inside or outside, within the kernel's limits.</summary>
    public static List<IdRange> Ranges(string name, IReadOnlyList<IdMappingSpec> mappings)
    {
        var ranges = new List<IdRange>();
        foreach (var mapping in mappings)
        {
            // JSON null elements deserialize as null whatever the element type says.
            if (mapping is null)
            {
                throw new Core.InvalidArgumentException($"{name}: an entry is null");
            }
            var range = new IdRange(mapping.ContainerId, mapping.HostId, mapping.Size);
            if (range.Size == 0)
            {
                throw new Core.InvalidArgumentException($"{name}: {Describe(range)} maps no ids (size 0)");
            }
            // (uid_t)-1 is no id at all, so the last id a range may reach is 2^32 - 2.
            if ((ulong)range.ContainerId + range.Size > uint.MaxValue || (ulong)range.HostId + range.Size > uint.MaxValue)
            {
                throw new Core.InvalidArgumentException($"{name}: {Describe(range)} goes past the largest id, 4294967294");
            }
            foreach (var other in ranges)
            {
                if (Overlap(range.ContainerId, other.ContainerId, range.Size, other.Size))
                {
                    throw new Core.InvalidArgumentException($"{name}: {Describe(range)} and {Describe(other)} overlap inside the container");
                }
                if (Overlap(range.HostId, other.HostId, range.Size, other.Size))
                {
                    throw new Core.InvalidArgumentException($"{name}: {Describe(range)} and {Describe(other)} overlap on the host");
                }
            }
            ranges.Add(range);
        }
        if (ranges.Count > MaxRanges)
        {
            throw new Core.InvalidArgumentException($"{name}: {ranges.Count} ranges; the kernel takes at most {MaxRanges}");
        }
        if (UserNamespaceRequest.MapText(ranges).Length > MaxMapTextBytes)
        {
            throw new Core.InvalidArgumentException($"{name}: the map is longer than the kernel's {MaxMapTextBytes}-byte limit");
        }
        return ranges;
    }

    private static void RequireSame(string name, List<IdRange> configured, List<IdRange> actual, string path)
    {
        var order = (IEnumerable<IdRange> ranges) => ranges.OrderBy(r => r.ContainerId).ToList();
        if (configured.Count > 0 && !order(configured).SequenceEqual(order(actual)))
        {
            throw new Core.InvalidArgumentException(
                $"{name} ({string.Join(", ", configured.Select(Describe))}) do not match the maps of the user namespace to join, {path} ({string.Join(", ", actual.Select(Describe))})");
        }
    }

    /// <summary>The container is set up by its root, which must therefore exist inside (runc fails the same way, later).</summary>
    private static void RequireRoot(string name, List<IdRange> ranges)
    {
        if (!ranges.Any(r => r.ContainerId == 0))
        {
            throw new Core.InvalidArgumentException($"{name}: no range maps id 0 (the container's root, which sets the container up)");
        }
    }

    private static bool Overlap(uint a, uint b, uint sizeA, uint sizeB) =>
        (ulong)a < (ulong)b + sizeB && (ulong)b < (ulong)a + sizeA;

    private static string Describe(IdRange range) => $"{{containerID {range.ContainerId}, hostID {range.HostId}, size {range.Size}}}";
}
