using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>capset(2): linux/capability.h.</summary>
internal static partial class LibC
{
    public const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    private const long SYS_capset = 126;

    [StructLayout(LayoutKind.Sequential)]
    public struct CapUserHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CapUserData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscall_capset(long number, CapUserHeader* header, CapUserData* data);

    public static unsafe int capset(ref CapUserHeader header, Span<CapUserData> data)
    {
        fixed (CapUserHeader* h = &header)
        fixed (CapUserData* d = data)
        {
            return (int)syscall_capset(SYS_capset, h, d);
        }
    }
}
