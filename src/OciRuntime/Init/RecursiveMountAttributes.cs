using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// The recursive mount options of the runtime-spec (config.md "mounts": rro, rrw, rnosuid, ...):
/// attributes that mount_setattr(2) with AT_RECURSIVE applies to a mount and every mount below
/// it. A plain "ro" bind remount leaves submounts writable; "rro" does not.
/// </summary>
public sealed record RecursiveMountAttributes(ulong Set, ulong Clear)
{
    public static readonly RecursiveMountAttributes None = new(0, 0);

    private static readonly Dictionary<string, (bool Clear, ulong Attribute)> FlagWords = new(StringComparer.Ordinal)
    {
        ["rro"] = (false, MOUNT_ATTR_RDONLY),
        ["rrw"] = (true, MOUNT_ATTR_RDONLY),
        ["rnosuid"] = (false, MOUNT_ATTR_NOSUID),
        ["rsuid"] = (true, MOUNT_ATTR_NOSUID),
        ["rnodev"] = (false, MOUNT_ATTR_NODEV),
        ["rdev"] = (true, MOUNT_ATTR_NODEV),
        ["rnoexec"] = (false, MOUNT_ATTR_NOEXEC),
        ["rexec"] = (true, MOUNT_ATTR_NOEXEC),
        ["rnodiratime"] = (false, MOUNT_ATTR_NODIRATIME),
        ["rdiratime"] = (true, MOUNT_ATTR_NODIRATIME),
        ["rnosymfollow"] = (false, MOUNT_ATTR_NOSYMFOLLOW),
        ["rsymfollow"] = (true, MOUNT_ATTR_NOSYMFOLLOW),
    };

    // The atime mode is one value, not independent flags: the kernel takes a new mode only
    // with the whole MOUNT_ATTR__ATIME field cleared. Words that turn a mode off fall back to
    // the kernel's default, relatime ("rnorelatime" asks for the opposite: strictatime).
    private static readonly Dictionary<string, ulong> AtimeWords = new(StringComparer.Ordinal)
    {
        ["rrelatime"] = MOUNT_ATTR_RELATIME,
        ["rnorelatime"] = MOUNT_ATTR_STRICTATIME,
        ["rnoatime"] = MOUNT_ATTR_NOATIME,
        ["ratime"] = MOUNT_ATTR_RELATIME,
        ["rstrictatime"] = MOUNT_ATTR_STRICTATIME,
        ["rnostrictatime"] = MOUNT_ATTR_RELATIME,
    };

    /// <summary>Every word this type understands (for `features`).</summary>
    public static IEnumerable<string> Words => FlagWords.Keys.Concat(AtimeWords.Keys);

    public bool IsEmpty => Set == 0 && Clear == 0;

    /// <summary>False on kernels without mount_setattr(2) (before 5.12): probed with a bad descriptor, which only a missing call answers with ENOSYS.</summary>
    public static bool KernelSupports()
    {
        var attr = new MountAttr();
        return mount_setattr(-1, "", (uint)AT_EMPTY_PATH, ref attr) == 0
            || System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.ENOSYS;
    }

    /// <summary>Adds <paramref name="word"/> when it is a recursive option; false otherwise.</summary>
    public bool TryAdd(string word, out RecursiveMountAttributes result)
    {
        if (FlagWords.TryGetValue(word, out var flag))
        {
            result = flag.Clear
                ? new RecursiveMountAttributes(Set & ~flag.Attribute, Clear | flag.Attribute)
                : new RecursiveMountAttributes(Set | flag.Attribute, Clear & ~flag.Attribute);
            return true;
        }
        if (AtimeWords.TryGetValue(word, out var mode))
        {
            result = new RecursiveMountAttributes((Set & ~MOUNT_ATTR__ATIME) | mode, Clear | MOUNT_ATTR__ATIME);
            return true;
        }
        result = this;
        return false;
    }

    /// <summary>Applies the attributes to the mount <paramref name="mountFd"/> names and every mount below it.</summary>
    public void Apply(int mountFd, string where)
    {
        var attr = new MountAttr { AttrSet = Set, AttrClear = Clear };
        if (mount_setattr(mountFd, "", (uint)AT_EMPTY_PATH | AT_RECURSIVE, ref attr) < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOSYS)
            {
                throw new InitException($"mount {where}: recursive mount options (rro, rnosuid, ...) need mount_setattr(2), Linux 5.12 or later; this kernel does not have it");
            }
            throw new SyscallException(errno, "mount_setattr AT_RECURSIVE", where);
        }
    }
}
