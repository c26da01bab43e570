using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>utimensat(2) with AT_SYMLINK_NOFOLLOW: .NET's File.SetLastWriteTime follows symlinks.</summary>
internal static partial class LibC
{
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int utimensat(int directoryFd, string path, Timespec* times, int flags);
}
