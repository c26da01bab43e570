using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>mknod(2) and linkat(2): device nodes, fifos, whiteouts and hard links, which .NET has no API for.</summary>
internal static partial class LibC
{
    internal const int AT_FDCWD = -100;

    internal const uint S_IFMT = 0xF000;
    internal const uint S_IFIFO = 0x1000;
    internal const uint S_IFCHR = 0x2000;
    internal const uint S_IFDIR = 0x4000;
    internal const uint S_IFBLK = 0x6000;
    internal const uint S_IFREG = 0x8000;
    internal const uint S_IFLNK = 0xA000;

    [LibraryImport("libc", EntryPoint = "mknod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mknod(string path, uint mode, ulong device);

    /// <summary>Without AT_SYMLINK_FOLLOW a link to a symlink links the symlink itself, never its target.</summary>
    [LibraryImport("libc", EntryPoint = "linkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int linkat(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath, int flags);
}
