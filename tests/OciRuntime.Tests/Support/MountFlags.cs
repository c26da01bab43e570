using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Tests.Support;

/// <summary>Whether the mount a descriptor's file was opened through is read-only (fstatvfs(3) ST_RDONLY reflects the mount's flags).</summary>
internal static partial class MountFlags
{
    private const ulong ST_RDONLY = 1;

    // struct statvfs on 64-bit Linux: nine unsigned longs, then f_flag.
    private const int FlagOffset = 9 * sizeof(ulong);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fstatvfs(int fd, byte[] buffer);

    public static bool IsReadOnly(int fd)
    {
        var buffer = new byte[256];
        if (fstatvfs(fd, buffer) < 0)
        {
            throw new InvalidOperationException($"fstatvfs fd {fd}: errno {Marshal.GetLastPInvokeError()}");
        }
        return (BitConverter.ToUInt64(buffer, FlagOffset) & ST_RDONLY) != 0;
    }
}
