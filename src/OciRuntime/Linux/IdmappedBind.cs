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
    /// <summary>Overlay takes id-mapped lower layers from Linux 5.19 on.</summary>
    private static readonly Version OverlayIdmappedLayers = new(5, 19);

    /// <summary>
    /// Whether a pod's image layers under <paramref name="directory"/> can be id-mapped for an
    /// overlay here: the kernel's overlay takes id-mapped layers, and the directory's file system
    /// takes id-mapped mounts (ext4, xfs, btrfs do; an overlay, as in a container, does not).
    /// Tried for real on a detached clone, which the kernel discards when it is closed.
    /// </summary>
    public static bool WorksFor(string directory)
    {
        if (Environment.OSVersion.Version < OverlayIdmappedLayers || !Directory.Exists(directory))
        {
            return false;
        }
        var userNs = -1;
        var tree = -1;
        try
        {
            IdRange[] probe = [new IdRange(0, 100000, 65536)];
            userNs = UserNamespaceSpawn.OpenUserNamespace(probe, probe);
            tree = Errno.Check(LibC.open_tree(LibC.AT_FDCWD, directory, LibC.OPEN_TREE_CLONE | (uint)LibC.O_CLOEXEC), "open_tree", directory);
            var attr = new LibC.MountAttr { AttrSet = LibC.MOUNT_ATTR_IDMAP, UserNamespaceFd = (ulong)userNs };
            return LibC.mount_setattr(tree, "", (uint)LibC.AT_EMPTY_PATH, ref attr) == 0;
        }
        // A JIT-hosted process has no crioci_native library to clone with (LibC.UserNamespaceSpawn.cs).
        catch (Exception exception) when (exception is SyscallException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (tree >= 0)
            {
                LibC.close(tree);
            }
            if (userNs >= 0)
            {
                LibC.close(userNs);
            }
        }
    }

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
