using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// Builds the container's file system view inside its new mount namespace: the rootfs as a
/// mount point, every mount of config.json, the default devices, then pivot_root (runc's
/// rootfs_linux.go order).
/// </summary>
internal static class RootfsSetup
{
    public static void Prepare(RuntimeSpec spec, string rootfs, string? cgroupPath, int firstIdmapFd = -1)
    {
        var nextIdmapFd = firstIdmapFd;
        // Keep what happens in here from propagating back to the host (and vice versa, unless
        // the spec asks for shared): the default is rslave, as runc does.
        Errno.Check(LibC.mount(null, "/", null, MountOptions.RootPropagation(spec.Linux?.RootfsPropagation), null), "mount", "/ (propagation)");
        // pivot_root needs the new root to be a mount point.
        Errno.Check(LibC.mount(rootfs, rootfs, null, LibC.MS_BIND | LibC.MS_REC, null), "bind mount rootfs", rootfs);

        using var root = new RootedPath(rootfs);
        var mountLabel = spec.Linux?.MountLabel;
        var devBound = false;
        foreach (var mount in spec.Mounts ?? [])
        {
            if (mount.Type == "cgroup")
            {
                MountCgroups(root, mount, cgroupPath ?? throw new InitException($"mount {mount.Destination}: the container has no cgroup"), mountLabel);
                continue;
            }
            var options = MountOptions.Parse(mount.Type, mount.Options);
            if (options.IdMapped && nextIdmapFd < 0)
            {
                throw new InitException($"mount {mount.Destination}: id-mapped, but the runtime passed no id-mapped tree");
            }
            MountOne(root, mount, mountLabel, options.IdMapped ? nextIdmapFd++ : -1);
            devBound |= mount.Destination.TrimEnd('/') == "/dev" && options.Bind;
        }
        if (!devBound)
        {
            DeviceSetup.CreateDefaultDevices(root, spec.Linux?.Devices);
        }
    }

    /// <summary>The mount's data, with the SELinux context option for the file systems that take one; null when empty.</summary>
    private static string? LabelledData(MountSpec mount, MountOptions options, string? mountLabel)
    {
        var data = Security.MountLabel.Applies(mount.Type, bind: false) ? Security.MountLabel.AddTo(options.Data, mountLabel) : options.Data;
        return data.Length > 0 ? data : null;
    }

    /// <param name="idmappedTree">For an id-mapped mount, the detached tree the runtime's side prepared; -1 otherwise.</param>
    private static void MountOne(RootedPath root, MountSpec mount, string? mountLabel, int idmappedTree = -1)
    {
        if (!mount.Destination.StartsWith('/'))
        {
            throw new InitException($"mount destination must be absolute: {mount.Destination}");
        }
        var options = MountOptions.Parse(mount.Type, mount.Options);
        var sourceIsFile = options.Bind && mount.Source is not null && File.Exists(mount.Source) && !Directory.Exists(mount.Source);
        var targetFd = sourceIsFile ? root.CreateFile(mount.Destination) : root.CreateDirectory(mount.Destination);
        var sysfsBound = false;
        try
        {
            var target = RootedPath.ProcFdPath(targetFd);
            var where = $"{mount.Destination} ({mount.Type ?? "bind"} from {mount.Source})";
            if (idmappedTree >= 0)
            {
                Errno.Check(LibC.move_mount(idmappedTree, "", targetFd, "", LibC.MOVE_MOUNT_F_EMPTY_PATH | LibC.MOVE_MOUNT_T_EMPTY_PATH), "move_mount (id-mapped)", where);
                LibC.close(idmappedTree);
            }
            else if (options.Bind)
            {
                var bindFlags = LibC.MS_BIND | (options.Recursive ? LibC.MS_REC : 0);
                Errno.Check(LibC.mount(mount.Source, target, null, bindFlags, null), "mount", where);
            }
            else if (LibC.mount(mount.Source ?? mount.Type, target, mount.Type, options.Flags, LabelledData(mount, options, mountLabel)) < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno != Errno.EPERM || mount.Type != "sysfs")
                {
                    throw new SyscallException(errno, "mount", where);
                }
                // In a user namespace only the owner of the network namespace may mount sysfs;
                // with the host's network (or one made outside the user namespace) runc binds
                // the host's /sys instead, restricted by the same flags below.
                Errno.Check(LibC.mount("/sys", target, null, LibC.MS_BIND | LibC.MS_REC, null), "bind /sys (sysfs refused here)", where);
                sysfsBound = true;
            }
            // The descriptor still names the directory under the new mount; remounts and
            // propagation changes must reach the mount itself, so resolve the path again.
            var remountFlags = options.Bind || sysfsBound ? options.Flags & ~LibC.MS_REMOUNT : 0;
            if (remountFlags != 0 || options.Propagation != 0 || !options.RecursiveAttributes.IsEmpty)
            {
                var mountedFd = root.TryOpen(mount.Destination);
                if (mountedFd < 0)
                {
                    throw new InitException($"mount {mount.Destination} vanished after mounting");
                }
                try
                {
                    var mounted = RootedPath.ProcFdPath(mountedFd);
                    // Flags such as ro on a bind mount only take effect on a remount.
                    if (remountFlags != 0)
                    {
                        Errno.Check(LibC.mount(null, mounted, null, LibC.MS_REMOUNT | LibC.MS_BIND | remountFlags, null), "remount", where);
                    }
                    if (options.Propagation != 0)
                    {
                        Errno.Check(LibC.mount(null, mounted, null, options.Propagation, null), "mount propagation", where);
                    }
                    // Last, so no later remount of the top mount undoes it for the submounts.
                    if (!options.RecursiveAttributes.IsEmpty)
                    {
                        options.RecursiveAttributes.Apply(mountedFd, where);
                    }
                }
                finally
                {
                    LibC.close(mountedFd);
                }
            }
        }
        finally
        {
            LibC.close(targetFd);
        }
    }

    /// <summary>
    /// /sys/fs/cgroup without a cgroup namespace, as runc does it: the container sees its own
    /// cgroup of each hierarchy (bind-mounted from the host) under the usual names, so tools
    /// inside read their limits, and nothing of the rest of the host's tree.
    /// </summary>
    private static void MountCgroups(RootedPath root, MountSpec mount, string cgroupPath, string? mountLabel)
    {
        var options = MountOptions.Parse("tmpfs", mount.Options);
        var readOnly = (options.Flags & LibC.MS_RDONLY) != 0;
        var hierarchy = Cgroups.CgroupHierarchy.Detect();
        var binds = new List<(string Source, string Destination)>();
        if (hierarchy.Mode == Cgroups.CgroupMode.Unified)
        {
            binds.Add((hierarchy.V2!.MountPoint + cgroupPath, mount.Destination));
        }
        else
        {
            MountOne(root, new MountSpec
            {
                Destination = mount.Destination,
                Type = "tmpfs",
                Source = "tmpfs",
                Options = ["nosuid", "noexec", "nodev", "mode=755"],
            }, mountLabel);
            foreach (var cgroupMount in hierarchy.Mounts)
            {
                var name = cgroupMount.IsV2 ? "unified" : Path.GetFileName(cgroupMount.MountPoint);
                binds.Add((cgroupMount.MountPoint + cgroupPath, mount.Destination.TrimEnd('/') + "/" + name));
            }
        }
        var bindOptions = readOnly ? new[] { "rbind", "ro", "nosuid", "noexec", "nodev" } : ["rbind", "nosuid", "noexec", "nodev"];
        foreach (var (source, destination) in binds)
        {
            MountOne(root, new MountSpec { Destination = destination, Type = "bind", Source = source, Options = bindOptions }, mountLabel: null);
        }
        if (readOnly && hierarchy.Mode != Cgroups.CgroupMode.Unified)
        {
            var fd = root.TryOpen(mount.Destination);
            try
            {
                Errno.Check(LibC.mount(null, RootedPath.ProcFdPath(fd), null, LibC.MS_REMOUNT | LibC.MS_RDONLY | LibC.MS_NOSUID | LibC.MS_NOEXEC | LibC.MS_NODEV, null), "remount ro", mount.Destination);
            }
            finally
            {
                LibC.close(fd);
            }
        }
    }

    /// <summary>Makes <paramref name="rootfs"/> the root and detaches the old one (runc's pivotRoot).</summary>
    public static void PivotRoot(string rootfs)
    {
        var oldRoot = Errno.Check(LibC.open("/", LibC.O_DIRECTORY | LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", "/");
        var newRoot = Errno.Check(LibC.open(rootfs, LibC.O_DIRECTORY | LibC.O_RDONLY | LibC.O_CLOEXEC, 0), "open", rootfs);
        try
        {
            Errno.Check(LibC.fchdir(newRoot), "fchdir", rootfs);
            // pivot_root(".", ".") stacks the old root on top of the new one, so no directory
            // for it has to exist inside the container.
            Errno.Check(LibC.pivot_root(".", "."), "pivot_root", rootfs);
            Errno.Check(LibC.fchdir(oldRoot), "fchdir", "old root");
            // Make the old root a slave first so the detach below cannot propagate to the host.
            Errno.Check(LibC.mount(null, ".", null, LibC.MS_SLAVE | LibC.MS_REC, null), "mount", "old root (rslave)");
            Errno.Check(LibC.umount2(".", LibC.MNT_DETACH), "umount2", "old root");
            Errno.Check(LibC.chdir("/"), "chdir", "/");
        }
        finally
        {
            LibC.close(oldRoot);
            LibC.close(newRoot);
        }
    }

    /// <summary>Hides paths from the container (runtime-spec maskedPaths): /dev/null over files, an empty read-only tmpfs over directories.</summary>
    /// <param name="mountLabel">linux.mountLabel: the tmpfs over a masked directory is the container's like any other it gets.</param>
    public static void MaskPaths(IReadOnlyList<string>? paths, string? mountLabel)
    {
        if (paths is not { Count: > 0 })
        {
            return;
        }
        var devNull = OpenNullDevice();
        try
        {
            var source = RootedPath.ProcFdPath(devNull);
            foreach (var path in paths)
            {
                if (Directory.Exists(path))
                {
                    var data = Security.MountLabel.AddTo("", mountLabel);
                    Errno.Check(LibC.mount("tmpfs", path, "tmpfs", LibC.MS_RDONLY, data.Length > 0 ? data : null), "mask", path);
                }
                else if (File.Exists(path) || Path.Exists(path))
                {
                    IgnoreMissing(LibC.mount(source, path, null, LibC.MS_BIND, null), "mask", path);
                }
            }
        }
        finally
        {
            LibC.close(devNull);
        }
    }

    /// <summary>
    /// The container's /dev/null, checked to be the null device itself: when the image (or a
    /// volume) makes it a symlink or another file, binding "/dev/null" over a masked path would
    /// bind that file there instead, writable, where the mask should hide it (runc
    /// CVE-2025-31133, e.g. /proc/sys/kernel/core_pattern over a masked /proc file).
    /// </summary>
    private static int OpenNullDevice()
    {
        const uint NullMajor = 1, NullMinor = 3;
        var fd = Errno.Check(LibC.open("/dev/null", LibC.O_PATH | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        var statx = new byte[256];
        if (LibC.statx(fd, "", LibC.AT_EMPTY_PATH, LibC.STATX_TYPE, statx) < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            LibC.close(fd);
            throw new SyscallException(errno, "statx", "/dev/null");
        }
        // struct statx: stx_mode at byte 28, stx_rdev_major and stx_rdev_minor at 128 and 132.
        var mode = BitConverter.ToUInt16(statx, 28);
        var (major, minor) = (BitConverter.ToUInt32(statx, 128), BitConverter.ToUInt32(statx, 132));
        if ((mode & LibC.S_IFMT) != LibC.S_IFCHR || major != NullMajor || minor != NullMinor)
        {
            LibC.close(fd);
            throw new InitException($"maskedPaths: the container's /dev/null is not the null device (mode 0{Convert.ToString(mode, 8)}, device {major}:{minor}); refusing to bind it over masked paths");
        }
        return fd;
    }

    /// <summary>Makes paths read-only (runtime-spec readonlyPaths).</summary>
    public static void MakeReadonly(IReadOnlyList<string>? paths)
    {
        foreach (var path in paths ?? [])
        {
            if (!Path.Exists(path))
            {
                continue;
            }
            Errno.Check(LibC.mount(path, path, null, LibC.MS_BIND | LibC.MS_REC, null), "bind", path);
            Errno.Check(LibC.mount(null, path, null, LibC.MS_BIND | LibC.MS_REMOUNT | LibC.MS_RDONLY | LibC.MS_REC, null), "remount ro", path);
        }
    }

    public static void MakeRootReadonly() =>
        Errno.Check(LibC.mount(null, "/", null, LibC.MS_BIND | LibC.MS_REMOUNT | LibC.MS_RDONLY, null), "remount ro", "/");

    private static void IgnoreMissing(int result, string call, string path)
    {
        if (result < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.ENOENT)
        {
            Errno.Check(result, call, path);
        }
    }
}
