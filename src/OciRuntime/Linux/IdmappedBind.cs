using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Host-side id-mapped bind mounts: a directory shown through a user namespace's maps, so files
/// owned by the host's root appear owned by that namespace's root. The daemon makes them for a
/// pod with its own user namespace: overlay (5.19+) takes id-mapped lower layers, as
/// containerd 2's overlay snapshotter uses them, and the image's files stay shared and untouched.
/// </summary>
public static class IdmappedBind
{
    /// <summary>Mounts an id-mapped clone of <paramref name="source"/> (without its submounts) on <paramref name="target"/>.</summary>
    /// <param name="userNamespacePath">A user namespace file (a pin or /proc/PID/ns/user) whose maps the mount takes.</param>
    public static void Mount(string source, string target, string userNamespacePath)
    {
        var userNs = Errno.Check(LibC.open(userNamespacePath, LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open user namespace", userNamespacePath);
        var tree = -1;
        try
        {
            tree = Errno.Check(LibC.open_tree(LibC.AT_FDCWD, source, LibC.OPEN_TREE_CLONE | (uint)LibC.O_CLOEXEC), "open_tree", source);
            var attr = new LibC.MountAttr { AttrSet = LibC.MOUNT_ATTR_IDMAP, UserNamespaceFd = (ulong)userNs };
            Errno.Check(LibC.mount_setattr(tree, "", (uint)LibC.AT_EMPTY_PATH, ref attr), "mount_setattr idmap", source);
            Errno.Check(LibC.move_mount(tree, "", LibC.AT_FDCWD, target, LibC.MOVE_MOUNT_F_EMPTY_PATH), "move_mount", target);
        }
        finally
        {
            if (tree >= 0)
            {
                LibC.close(tree);
            }
            LibC.close(userNs);
        }
    }
}
