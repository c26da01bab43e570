using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>mount(2), umount2(2), pivot_root(2), open_tree(2), mount_setattr(2): sys/mount.h and linux/mount.h.</summary>
internal static partial class LibC
{
    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_NOEXEC = 8;
    public const ulong MS_SYNCHRONOUS = 16;
    public const ulong MS_REMOUNT = 32;
    public const ulong MS_MANDLOCK = 64;
    public const ulong MS_DIRSYNC = 128;
    public const ulong MS_NOSYMFOLLOW = 256;
    public const ulong MS_NOATIME = 1024;
    public const ulong MS_NODIRATIME = 2048;
    public const ulong MS_BIND = 4096;
    public const ulong MS_MOVE = 8192;
    public const ulong MS_REC = 16384;
    public const ulong MS_SILENT = 32768;
    public const ulong MS_UNBINDABLE = 1 << 17;
    public const ulong MS_PRIVATE = 1 << 18;
    public const ulong MS_SLAVE = 1 << 19;
    public const ulong MS_SHARED = 1 << 20;
    public const ulong MS_RELATIME = 1 << 21;
    public const ulong MS_STRICTATIME = 1 << 24;
    public const ulong MS_LAZYTIME = 1 << 25;

    public const int MNT_FORCE = 1;
    public const int MNT_DETACH = 2;
    public const int UMOUNT_NOFOLLOW = 8;

    private const long SYS_pivot_root = 155;
    private const long SYS_mount_setattr = 442;
    private const long SYS_open_tree = 428;

    public const uint OPEN_TREE_CLONE = 1;

    private const long SYS_move_mount = 429;
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;
    public const uint MOVE_MOUNT_T_EMPTY_PATH = 0x40;
    public const ulong MOUNT_ATTR_IDMAP = 0x100000;

    // linux/mount.h: mount_setattr(2) attributes; the atime ones are a 3-bit field, not flags.
    public const ulong MOUNT_ATTR_RDONLY = 0x1;
    public const ulong MOUNT_ATTR_NOSUID = 0x2;
    public const ulong MOUNT_ATTR_NODEV = 0x4;
    public const ulong MOUNT_ATTR_NOEXEC = 0x8;
    public const ulong MOUNT_ATTR__ATIME = 0x70;
    public const ulong MOUNT_ATTR_RELATIME = 0x0;
    public const ulong MOUNT_ATTR_NOATIME = 0x10;
    public const ulong MOUNT_ATTR_STRICTATIME = 0x20;
    public const ulong MOUNT_ATTR_NODIRATIME = 0x80;
    public const ulong MOUNT_ATTR_NOSYMFOLLOW = 0x200000;

    public const uint AT_RECURSIVE = 0x8000;

    [StructLayout(LayoutKind.Sequential)]
    public struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClear;
        public ulong Propagation;
        public ulong UserNamespaceFd;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial long syscall_pivot_root(long number, string newRoot, string putOld);

    public static int pivot_root(string newRoot, string putOld) => (int)syscall_pivot_root(SYS_pivot_root, newRoot, putOld);

    [LibraryImport("libc", EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial long syscall_mount_setattr(long number, int dirfd, string path, uint flags, ref MountAttr attr, nuint size);

    [LibraryImport("libc", EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial long syscall_open_tree(long number, int dirfd, string path, uint flags);

    public static int open_tree(int dirfd, string path, uint flags) => (int)syscall_open_tree(SYS_open_tree, dirfd, path, flags);

    [LibraryImport("libc", EntryPoint = "syscall", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial long syscall_move_mount(long number, int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags);

    public static int move_mount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags) =>
        (int)syscall_move_mount(SYS_move_mount, fromDirfd, fromPath, toDirfd, toPath, flags);

    public static int mount_setattr(int dirfd, string path, uint flags, ref MountAttr attr) =>
        (int)syscall_mount_setattr(SYS_mount_setattr, dirfd, path, flags, ref attr, (nuint)Marshal.SizeOf<MountAttr>());
}
