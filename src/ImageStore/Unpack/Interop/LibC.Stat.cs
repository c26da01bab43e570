using System.Runtime.InteropServices;

namespace CriOci.ImageStore.Unpack.Interop;

/// <summary>
/// statx(2), used as lstat: its struct has one layout on every architecture, unlike struct
/// stat, so it can be read from a plain buffer.
/// </summary>
internal static partial class LibC
{
    internal const uint STATX_BASIC_STATS = 0x7ff;
    internal const int StatxBufferSize = 256;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
