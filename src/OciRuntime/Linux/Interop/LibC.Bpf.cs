using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>
/// bpf(2), only what a cgroup v2 device filter needs: load a BPF_PROG_TYPE_CGROUP_DEVICE
/// program, attach it to a cgroup, list and detach the ones already there (linux/bpf.h).
/// </summary>
internal static partial class LibC
{
    private const long SYS_bpf = 321;

    public const int BPF_PROG_LOAD = 5;
    public const int BPF_PROG_ATTACH = 8;
    public const int BPF_PROG_DETACH = 9;
    public const int BPF_PROG_GET_FD_BY_ID = 13;
    public const int BPF_PROG_QUERY = 16;

    public const uint BPF_PROG_TYPE_CGROUP_DEVICE = 15;
    public const uint BPF_CGROUP_DEVICE = 6;

    public const uint BPF_F_ALLOW_MULTI = 1 << 1;
    public const uint BPF_F_REPLACE = 1 << 2;

    /// <summary>The BPF_PROG_LOAD member of union bpf_attr, up to expected_attach_type.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct BpfProgLoadAttr
    {
        public uint ProgType;
        public uint InsnCount;
        public ulong Insns;
        public ulong License;
        public uint LogLevel;
        public uint LogSize;
        public ulong LogBuf;
        public uint KernVersion;
        public uint ProgFlags;
        public fixed byte ProgName[16];
        public uint ProgIfIndex;
        public uint ExpectedAttachType;
    }

    /// <summary>The BPF_PROG_ATTACH / BPF_PROG_DETACH member of union bpf_attr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgAttachAttr
    {
        public uint TargetFd;
        public uint AttachBpfFd;
        public uint AttachType;
        public uint AttachFlags;
        public uint ReplaceBpfFd;
    }

    /// <summary>The BPF_PROG_QUERY member of union bpf_attr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgQueryAttr
    {
        public uint TargetFd;
        public uint AttachType;
        public uint QueryFlags;
        public uint AttachFlags;
        public ulong ProgIds;
        public uint ProgCount;
        public uint Padding;
    }

    /// <summary>The BPF_PROG_GET_FD_BY_ID member of union bpf_attr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfGetFdByIdAttr
    {
        public uint Id;
        public uint NextId;
        public uint OpenFlags;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscall_bpf(long number, int command, void* attr, uint size);

    public static unsafe int bpf<TAttr>(int command, ref TAttr attr) where TAttr : unmanaged
    {
        fixed (TAttr* pointer = &attr)
        {
            return (int)syscall_bpf(SYS_bpf, command, pointer, (uint)sizeof(TAttr));
        }
    }
}
