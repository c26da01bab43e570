using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;

namespace CriOci.PodSandbox.Sandboxes;

/// <summary>
/// A pod's own user namespace (Kubernetes hostUsers: false, CRI UserNamespace mode POD): the
/// maps kubelet chose of host ids into the pod, shared by the pod's namespaces and every one of
/// its containers. Mode NODE, or no userns_options at all, is the host's user namespace.
/// </summary>
public sealed record PodUserNamespace(IReadOnlyList<IdRange> Uids, IReadOnlyList<IdRange> Gids)
{
    /// <summary>
    /// The pod's user namespace from <paramref name="options"/>, null for the host's. A malformed
    /// request is InvalidArgument naming <paramref name="field"/>: never silently the host's.
    /// </summary>
    public static PodUserNamespace? From(NamespaceOption? options, string field)
    {
        if (options?.UsernsOptions is not { } userns)
        {
            return null;
        }
        switch (userns.Mode)
        {
            case NamespaceMode.Node:
                // The host's namespace has the host's maps; maps beside it ask for something else.
                return userns.Uids.Count == 0 && userns.Gids.Count == 0 ? null
                    : throw new InvalidArgumentException($"{field}: mode NODE (the host's user namespace) takes no uids or gids");
            case NamespaceMode.Pod:
                return new PodUserNamespace(Checked($"{field}.uids", userns.Uids), Checked($"{field}.gids", userns.Gids));
            default:
                // KEP-127: kubelet sends POD or NODE only; a per-container namespace would split the pod's files and network.
                throw new InvalidArgumentException($"{field}: mode {userns.Mode} is not supported for user namespaces (only POD or NODE)");
        }
    }

    /// <summary>The maps as config.json writes them (runtime-spec linux.uidMappings/gidMappings, mounts[].uidMappings/gidMappings).</summary>
    public static List<IdMappingSpec> ToSpec(IReadOnlyList<IdRange> ranges) =>
        ranges.Select(r => new IdMappingSpec { ContainerId = r.ContainerId, HostId = r.HostId, Size = r.Size }).ToList();

    /// <summary>The host's uid and gid of the pod's root, who owns the pod's writable layers.</summary>
    public (uint Uid, uint Gid) RootOnHost => (Uids.First(r => r.ContainerId == 0).HostId, Gids.First(r => r.ContainerId == 0).HostId);

    public bool SameMaps(PodUserNamespace other) => Uids.SequenceEqual(other.Uids) && Gids.SequenceEqual(other.Gids);

    private static List<IdRange> Checked(string field, IEnumerable<IDMapping> mappings)
    {
        var list = mappings.ToList();
        if (list.Count == 0)
        {
            throw new InvalidArgumentException($"{field}: mode POD needs at least one mapping");
        }
        var ranges = UserNamespaceConfig.Ranges(field,
            list.Select(m => new IdMappingSpec { ContainerId = m.ContainerId, HostId = m.HostId, Size = m.Length }).ToList());
        // The pod's root sets up every container (mounts, hostname), so it must exist inside.
        return ranges.Any(r => r.ContainerId == 0) ? ranges
            : throw new InvalidArgumentException($"{field}: no mapping covers container id 0 (the pod's root)");
    }
}
