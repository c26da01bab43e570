using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>
/// Checked wrappers over <see cref="LibC"/>: every result is checked and a failure throws
/// <see cref="SyscallException"/> with errno, call and path. Nothing here follows a final
/// symlink.
/// </summary>
internal static class Syscalls
{
    public static void Lchown(string path, uint uid, uint gid) =>
        Check(LibC.lchown(path, uid, gid), "lchown", path);

    /// <summary>Creates a character or block device or a fifo; <paramref name="type"/> is one of LibC.S_IF*.</summary>
    public static void Mknod(string path, uint type, UnixFileMode permissions, uint major, uint minor) =>
        Check(LibC.mknod(path, type | (uint)permissions, MakeDevice(major, minor)), "mknod", path);

    public static void HardLink(string existingPath, string newPath) =>
        Check(LibC.linkat(LibC.AT_FDCWD, existingPath, LibC.AT_FDCWD, newPath, 0), "linkat", $"{existingPath} -> {newPath}");

    public static unsafe void Lsetxattr(string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* pointer = value)
        {
            Check(LibC.lsetxattr(path, name, pointer, (nuint)value.Length, 0), "lsetxattr " + name, path);
        }
    }

    /// <summary>The attribute's value, or null when the path has no such attribute.</summary>
    public static unsafe byte[]? Lgetxattr(string path, string name)
    {
        const int ENODATA = 61;
        var buffer = new byte[64 * 1024];
        fixed (byte* pointer = buffer)
        {
            var length = LibC.lgetxattr(path, name, pointer, (nuint)buffer.Length);
            if (length < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == ENODATA ? null : throw new SyscallException(errno, "lgetxattr " + name, path);
            }
            return buffer[..(int)length];
        }
    }

    /// <summary>Sets access and modification time of the path itself (a symlink is not followed).</summary>
    public static unsafe void Lutimes(string path, DateTimeOffset modificationTime)
    {
        var unixTicks = modificationTime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var time = new LibC.Timespec
        {
            Seconds = Math.DivRem(unixTicks, TimeSpan.TicksPerSecond, out var remainder),
            Nanoseconds = remainder * 100,
        };
        if (time.Nanoseconds < 0)
        {
            time.Seconds -= 1;
            time.Nanoseconds += 1_000_000_000;
        }
        var times = stackalloc LibC.Timespec[2] { time, time };
        Check(LibC.utimensat(LibC.AT_FDCWD, path, times, LibC.AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    /// <summary>lstat: the status of the path itself, or null when it does not exist.</summary>
    public static unsafe FileStatus? Lstat(string path)
    {
        var buffer = stackalloc byte[LibC.StatxBufferSize];
        if (LibC.statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, LibC.STATX_BASIC_STATS, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == SyscallException.ENOENT ? null : throw new SyscallException(errno, "statx", path);
        }
        var s = new ReadOnlySpan<byte>(buffer, LibC.StatxBufferSize);
        // Offsets of struct statx in include/uapi/linux/stat.h.
        return new FileStatus(
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            Size: (long)BinaryPrimitives.ReadUInt64LittleEndian(s[40..]),
            LinkCount: BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            Inode: BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            ModificationSeconds: BinaryPrimitives.ReadInt64LittleEndian(s[112..]),
            ModificationNanoseconds: BinaryPrimitives.ReadUInt32LittleEndian(s[120..]),
            DeviceMajor: BinaryPrimitives.ReadUInt32LittleEndian(s[128..]),
            DeviceMinor: BinaryPrimitives.ReadUInt32LittleEndian(s[132..]));
    }

    /// <summary>fsync(2) of a directory, making renames into it durable.</summary>
    public static void FsyncDirectory(string directory) =>
        WithDirectoryFd(directory, fd => Check(LibC.fsync(fd), "fsync", directory));

    /// <summary>syncfs(2): flushes the whole filesystem holding <paramref name="directory"/>.</summary>
    public static void SyncFilesystem(string directory) =>
        WithDirectoryFd(directory, fd => Check(LibC.syncfs(fd), "syncfs", directory));

    private static void WithDirectoryFd(string directory, Action<int> action)
    {
        var fd = LibC.open(directory, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        Check(fd, "open", directory);
        try
        {
            action(fd);
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>glibc's gnu_dev_makedev: 12 bits of major and 20 of minor, split across the 64-bit dev_t.</summary>
    internal static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0x00000fff) << 8)
        | ((ulong)(major & 0xfffff000) << 32)
        | (minor & 0x000000ffUL)
        | ((ulong)(minor & 0xffffff00) << 12);

    private static void Check(int result, string call, string path)
    {
        if (result < 0)
        {
            throw new SyscallException(Marshal.GetLastPInvokeError(), call, path);
        }
    }
}
