using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Seccomp;

/// <summary>libseccomp (Debian's libseccomp2), seccomp.h: builds and loads the BPF filter.</summary>
internal static partial class LibSeccomp
{
    private const string Library = "libseccomp.so.2";

    public const uint SCMP_ACT_KILL_PROCESS = 0x80000000;
    public const uint SCMP_ACT_KILL_THREAD = 0x00000000;
    public const uint SCMP_ACT_TRAP = 0x00030000;
    public const uint SCMP_ACT_ERRNO_BASE = 0x00050000;
    public const uint SCMP_ACT_TRACE_BASE = 0x7ff00000;
    public const uint SCMP_ACT_LOG = 0x7ffc0000;
    public const uint SCMP_ACT_ALLOW = 0x7fff0000;
    public const uint SCMP_ACT_NOTIFY = 0x7fc00000;

    public const int SCMP_FLTATR_CTL_NNP = 3;
    public const int SCMP_FLTATR_CTL_TSYNC = 4;
    public const int SCMP_FLTATR_CTL_LOG = 6;
    public const int SCMP_FLTATR_CTL_SSB = 7;

    public const int NR_SCMP_ERROR = -1;

    /// <summary>struct scmp_arg_cmp.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ArgumentComparison
    {
        public uint Argument;
        public int Operator;
        public ulong DatumA;
        public ulong DatumB;
    }

    [LibraryImport(Library)]
    public static partial nint seccomp_init(uint defaultAction);

    [LibraryImport(Library)]
    public static partial void seccomp_release(nint context);

    [LibraryImport(Library)]
    public static partial int seccomp_attr_set(nint context, int attribute, uint value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint seccomp_arch_resolve_name(string name);

    [LibraryImport(Library)]
    public static partial int seccomp_arch_add(nint context, uint architecture);

    [LibraryImport(Library)]
    public static partial uint seccomp_arch_native();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name(string name);

    [LibraryImport(Library)]
    public static unsafe partial int seccomp_rule_add_array(nint context, uint action, int syscall, uint argumentCount, ArgumentComparison* arguments);

    [LibraryImport(Library)]
    public static partial int seccomp_load(nint context);

    [LibraryImport(Library)]
    public static partial int seccomp_export_bpf(nint context, int fd);
}
