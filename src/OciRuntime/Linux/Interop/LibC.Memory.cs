using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>The process's own mappings: madvise(2), pread(2) of /proc/self/pagemap, getauxval(3).</summary>
internal static partial class LibC
{
    public const int MADV_DONTNEED = 4;

    /// <summary>getauxval keys (elf.h): where the kernel put the executable's program headers, and how many.</summary>
    public const ulong AT_PHDR = 3;
    public const ulong AT_PHNUM = 5;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc")]
    public static partial ulong getauxval(ulong type);
}
