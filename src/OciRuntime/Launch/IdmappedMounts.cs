using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// Id-mapped bind mounts (runtime-spec 1.1 mounts[].uidMappings/gidMappings with "idmap" or
/// "ridmap"). mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN in the user namespace that
/// owns the source's file system, the host's, which the init in its own user namespace no
/// longer has; so, as runc does, the runtime's side clones each source into a detached tree,
/// id-maps it with a user namespace made for the mount's maps, and hands the tree's descriptor
/// to the init, which only moves it into place.
/// </summary>
public sealed class IdmappedMounts : IDisposable
{
    private readonly List<int> _trees;

    private IdmappedMounts(List<int> trees) => _trees = trees;

    /// <summary>One detached tree per id-mapped mount, in the order of config.json's mounts.</summary>
    public IReadOnlyList<int> TreeFds => _trees;

    /// <summary>Refuses a bad id-mapped mount before anything of the container exists.</summary>
    public static void Validate(RuntimeSpec spec)
    {
        foreach (var mount in spec.Mounts ?? [])
        {
            MappingsOf(spec, mount);
        }
    }

    public static IdmappedMounts Open(RuntimeSpec spec)
    {
        var trees = new List<int>();
        try
        {
            foreach (var mount in spec.Mounts ?? [])
            {
                if (MappingsOf(spec, mount) is { } maps)
                {
                    trees.Add(OpenTree(mount, maps.Uids, maps.Gids, MountOptions.Parse(mount.Type, mount.Options).IdMapRecursive));
                }
            }
            return new IdmappedMounts(trees);
        }
        catch
        {
            trees.ForEach(fd => LibC.close(fd));
            throw;
        }
    }

    /// <summary>
    /// The maps of an id-mapped mount, null for any other. A mount without its own maps takes
    /// the container's user namespace maps (runtime-spec: "idmap" alone maps as the container).
    /// </summary>
    private static (List<IdRange> Uids, List<IdRange> Gids)? MappingsOf(RuntimeSpec spec, MountSpec mount)
    {
        var options = MountOptions.Parse(mount.Type, mount.Options);
        var hasMaps = mount.UidMappings is { Count: > 0 } || mount.GidMappings is { Count: > 0 };
        var name = $"mounts[{mount.Destination}]";
        if (!options.IdMapped)
        {
            return hasMaps
                ? throw new Core.InvalidArgumentException($"{name}: uidMappings/gidMappings need the \"idmap\" or \"ridmap\" option")
                : null;
        }
        if (!options.Bind)
        {
            throw new Core.InvalidArgumentException($"{name}: \"idmap\" and \"ridmap\" apply to bind mounts only");
        }
        var uids = mount.UidMappings is { Count: > 0 } ? mount.UidMappings : spec.Linux?.UidMappings;
        var gids = mount.GidMappings is { Count: > 0 } ? mount.GidMappings : spec.Linux?.GidMappings;
        if (uids is not { Count: > 0 } || gids is not { Count: > 0 })
        {
            throw new Core.InvalidArgumentException($"{name}: an id-mapped mount needs uidMappings and gidMappings (its own or the container's)");
        }
        return (UserNamespaceConfig.Ranges($"{name}.uidMappings", uids), UserNamespaceConfig.Ranges($"{name}.gidMappings", gids));
    }

    private static int OpenTree(MountSpec mount, List<IdRange> uids, List<IdRange> gids, bool recursive)
    {
        var source = mount.Source ?? throw new Core.InvalidArgumentException($"mounts[{mount.Destination}]: an id-mapped mount needs a source");
        var recursiveFlag = recursive ? LibC.AT_RECURSIVE : 0;
        // The tree holds the submounts only for rbind or ridmap; ridmap maps them too.
        var cloneFlags = LibC.OPEN_TREE_CLONE | (uint)LibC.O_CLOEXEC
            | (recursive || MountOptions.Parse(mount.Type, mount.Options).Recursive ? LibC.AT_RECURSIVE : 0);
        var tree = Errno.Check(LibC.open_tree(LibC.AT_FDCWD, source, cloneFlags), "open_tree", source);
        var userNs = -1;
        try
        {
            userNs = UserNamespaceSpawn.OpenUserNamespace(uids, gids);
            var attr = new LibC.MountAttr { AttrSet = LibC.MOUNT_ATTR_IDMAP, UserNamespaceFd = (ulong)userNs };
            Errno.Check(LibC.mount_setattr(tree, "", (uint)LibC.AT_EMPTY_PATH | recursiveFlag, ref attr), "mount_setattr idmap", source);
            return tree;
        }
        catch
        {
            LibC.close(tree);
            throw;
        }
        finally
        {
            if (userNs >= 0)
            {
                LibC.close(userNs);
            }
        }
    }

    public void Dispose() => _trees.ForEach(fd => LibC.close(fd));
}
