using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// The devices every container must have (runtime-spec config-linux.md "Default Devices") and
/// the standard /dev symlinks, plus the devices config.json lists.
/// </summary>
internal static class DeviceSetup
{
    private static readonly DeviceSpec[] DefaultDevices =
    [
        new() { Type = "c", Path = "/dev/null", Major = 1, Minor = 3, FileMode = 0x1B6 },
        new() { Type = "c", Path = "/dev/zero", Major = 1, Minor = 5, FileMode = 0x1B6 },
        new() { Type = "c", Path = "/dev/full", Major = 1, Minor = 7, FileMode = 0x1B6 },
        new() { Type = "c", Path = "/dev/random", Major = 1, Minor = 8, FileMode = 0x1B6 },
        new() { Type = "c", Path = "/dev/urandom", Major = 1, Minor = 9, FileMode = 0x1B6 },
        new() { Type = "c", Path = "/dev/tty", Major = 5, Minor = 0, FileMode = 0x1B6 },
    ];

    private static readonly (string Link, string Target)[] Symlinks =
    [
        ("/dev/fd", "/proc/self/fd"),
        ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"),
        ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/ptmx", "pts/ptmx"),
    ];

    public static void CreateDefaultDevices(RootedPath root, IReadOnlyList<DeviceSpec>? extra)
    {
        var oldMask = LibC.umask(0);
        try
        {
            foreach (var device in DefaultDevices.Concat(extra ?? []))
            {
                CreateDevice(root, device);
            }
            var devFd = root.CreateDirectory("/dev");
            try
            {
                foreach (var (link, target) in Symlinks)
                {
                    var name = link["/dev/".Length..];
                    if (LibC.symlinkat(target, devFd, name) < 0
                        && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.EEXIST)
                    {
                        Errno.Check(-1, "symlink", link);
                    }
                }
            }
            finally
            {
                LibC.close(devFd);
            }
        }
        finally
        {
            LibC.umask(oldMask);
        }
    }

    /// <summary>
    /// In a user namespace no device node can be made (mknod needs CAP_MKNOD in the host's), so
    /// the host's node, still reachable before pivot_root, is bind-mounted over an empty file, as
    /// runc does; it keeps the host's owner and mode.
    /// </summary>
    private static void BindHostDevice(int parentFd, string name, DeviceSpec device)
    {
        var fd = Errno.Check(LibC.openat(parentFd, name, LibC.O_CREAT | LibC.O_WRONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0), "create", device.Path);
        try
        {
            Errno.Check(LibC.mount(device.Path, RootedPath.ProcFdPath(fd), null, LibC.MS_BIND, null), "bind host device", device.Path);
        }
        finally
        {
            LibC.close(fd);
        }
    }

    private static void CreateDevice(RootedPath root, DeviceSpec device)
    {
        var parent = Path.GetDirectoryName(device.Path) ?? "/dev";
        var name = Path.GetFileName(device.Path);
        var parentFd = root.CreateDirectory(parent);
        try
        {
            var type = device.Type switch
            {
                "c" or "u" => LibC.S_IFCHR,
                "b" => LibC.S_IFBLK,
                "p" => LibC.S_IFIFO,
                _ => throw new InitException($"device {device.Path}: unknown type {device.Type}"),
            };
            var mode = type | (device.FileMode ?? 0x1B6) & 0xFFF;
            if (LibC.mknodat(parentFd, name, mode, LibC.MakeDevice(device.Major, device.Minor)) < 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Errno.EPERM && type != LibC.S_IFIFO)
                {
                    BindHostDevice(parentFd, name, device);
                    return;
                }
                if (errno != Errno.EEXIST)
                {
                    throw new SyscallException(errno, "mknod", device.Path);
                }
            }
            Errno.Check(LibC.fchownat(parentFd, name, device.Uid ?? 0, device.Gid ?? 0, LibC.AT_SYMLINK_NOFOLLOW), "chown", device.Path);
        }
        finally
        {
            LibC.close(parentFd);
        }
    }
}
