using CriOci.OciRuntime.Init;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Init;

public sealed class MountOptionsTests
{
    public static TheoryData<string[], ulong, ulong> FlagCases => new()
    {
        { ["ro"], MS_RDONLY, 0 },
        { ["rw"], 0, MS_RDONLY },
        { ["nosuid", "nodev", "noexec"], MS_NOSUID | MS_NODEV | MS_NOEXEC, 0 },
        { ["suid", "dev", "exec"], 0, MS_NOSUID | MS_NODEV | MS_NOEXEC },
        { ["ro", "rw"], 0, MS_RDONLY },
        { ["sync", "dirsync", "remount", "mand"], MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK, 0 },
        { ["async", "nomand"], 0, MS_SYNCHRONOUS | MS_MANDLOCK },
        { ["noatime", "nodiratime", "relatime", "strictatime"], MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME, 0 },
        { ["atime", "diratime", "norelatime", "nostrictatime"], 0, MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME },
        { ["nosymfollow", "lazytime"], MS_NOSYMFOLLOW | MS_LAZYTIME, 0 },
        { ["symfollow", "nolazytime"], 0, MS_NOSYMFOLLOW | MS_LAZYTIME },
        { ["defaults"], 0, 0 },
    };

    [Theory]
    [MemberData(nameof(FlagCases))]
    public void Parse_FlagWords_SetAndClearFlags(string[] options, ulong flags, ulong clearFlags)
    {
        var parsed = MountOptions.Parse("tmpfs", options);

        Assert.Equal(flags, parsed.Flags);
        Assert.Equal(clearFlags, parsed.ClearFlags);
        Assert.Equal("", parsed.Data);
        Assert.Equal(0UL, parsed.Propagation);
    }

    [Fact]
    public void Parse_RwThenRo_LastWordWinsInBothFlagSets()
    {
        // "ro" after "rw" makes the mount read-only; MS_RDONLY must then not also be in the
        // flags to clear, or a caller applying both (mount_setattr attr_clr) would undo it.
        var parsed = MountOptions.Parse("bind", ["rw", "ro"]);

        Assert.Equal(MS_RDONLY, parsed.Flags & MS_RDONLY);
        Assert.Equal(0UL, parsed.ClearFlags & MS_RDONLY);
    }

    public static TheoryData<string, ulong> PropagationCases => new()
    {
        { "private", MS_PRIVATE },
        { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },
        { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },
        { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE },
        { "runbindable", MS_UNBINDABLE | MS_REC },
    };

    [Theory]
    [MemberData(nameof(PropagationCases))]
    public void Parse_PropagationWord_SetsPropagationNotFlags(string word, ulong propagation)
    {
        var parsed = MountOptions.Parse("bind", ["rbind", word, "ro"]);

        Assert.Equal(propagation, parsed.Propagation);
        Assert.Equal(MS_RDONLY, parsed.Flags);
        Assert.Equal("", parsed.Data);
    }

    [Fact]
    public void Parse_TwoPropagationWords_LastWins()
    {
        var parsed = MountOptions.Parse("bind", ["rshared", "rprivate"]);

        Assert.Equal(MS_PRIVATE | MS_REC, parsed.Propagation);
    }

    [Fact]
    public void Parse_UnknownWords_BecomeDataInOrder()
    {
        var parsed = MountOptions.Parse("tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]);

        Assert.Equal("mode=755,size=65536k", parsed.Data);
        Assert.Equal(MS_NOSUID | MS_STRICTATIME, parsed.Flags);
    }

    [Fact]
    public void Parse_DevptsOptions_KeepsEveryDataWord()
    {
        var parsed = MountOptions.Parse("devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]);

        Assert.Equal("newinstance,ptmxmode=0666,mode=0620,gid=5", parsed.Data);
        Assert.Equal(MS_NOSUID | MS_NOEXEC, parsed.Flags);
        Assert.False(parsed.Bind);
    }

    public static TheoryData<string?, string[]?, bool, bool> BindCases => new()
    {
        { "bind", [], true, false },
        { "rbind", [], true, true },
        { null, ["bind"], true, false },
        { null, ["rbind"], true, true },
        { "none", ["bind", "rbind"], true, true },
        { "rbind", ["bind"], true, true },
        { "tmpfs", ["nosuid"], false, false },
        { "proc", null, false, false },
    };

    [Theory]
    [MemberData(nameof(BindCases))]
    public void Parse_BindTypeOrOption_SetsBindAndRecursive(string? type, string[]? options, bool bind, bool recursive)
    {
        var parsed = MountOptions.Parse(type, options);

        Assert.Equal(bind, parsed.Bind);
        Assert.Equal(recursive, parsed.Recursive);
        Assert.Equal("", parsed.Data);
    }

    public static TheoryData<string?, ulong> RootPropagationCases => new()
    {
        { null, MS_SLAVE | MS_REC },
        { "", MS_SLAVE | MS_REC },
        { "rslave", MS_SLAVE | MS_REC },
        { "rprivate", MS_PRIVATE | MS_REC },
        { "private", MS_PRIVATE | MS_REC },
        { "rshared", MS_SHARED | MS_REC },
        { "shared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE | MS_REC },
    };

    [Theory]
    [MemberData(nameof(RootPropagationCases))]
    public void RootPropagation_KnownOrMissingValue_ReturnsRecursiveFlag(string? value, ulong expected)
    {
        var flag = MountOptions.RootPropagation(value);

        Assert.Equal(expected, flag);
    }

    [Fact]
    public void RootPropagation_UnknownValue_ThrowsNamingIt()
    {
        var exception = Assert.Throws<ArgumentException>(() => MountOptions.RootPropagation("sideways"));

        Assert.Contains("sideways", exception.Message);
    }

    public static TheoryData<string[], ulong, ulong> RecursiveCases => new()
    {
        { ["rro"], MOUNT_ATTR_RDONLY, 0 },
        { ["rro", "rrw"], 0, MOUNT_ATTR_RDONLY },
        { ["rrw", "rro"], MOUNT_ATTR_RDONLY, 0 },
        { ["rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW, 0 },
        { ["rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"], 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW },
        // An atime word replaces the whole atime field, which the kernel then needs cleared.
        { ["rnoatime"], MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
        { ["rstrictatime"], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
        { ["rnoatime", "rrelatime"], MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
        { ["rnoatime", "ratime"], MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
        { ["rnorelatime"], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
    };

    [Theory]
    [MemberData(nameof(RecursiveCases))]
    public void Parse_RecursiveWords_BecomeMountSetattrAttributesNotFlagsOrData(string[] options, ulong set, ulong clear)
    {
        var parsed = MountOptions.Parse("bind", ["rbind", .. options]);

        Assert.Equal(set, parsed.RecursiveAttributes.Set);
        Assert.Equal(clear, parsed.RecursiveAttributes.Clear);
        Assert.Equal(0UL, parsed.Flags);
        Assert.Equal("", parsed.Data);
    }

    [Fact]
    public void Parse_RoWithoutRro_HasNoRecursiveAttributes()
    {
        var parsed = MountOptions.Parse("bind", ["rbind", "ro"]);

        Assert.True(parsed.RecursiveAttributes.IsEmpty);
        Assert.Equal(MS_RDONLY, parsed.Flags);
    }

    [Fact]
    public void KnownWords_ListRecursiveWordsOnlyWhenTheKernelCanApplyThem()
    {
        Assert.Contains("rro", MountOptions.KnownWords(recursiveAttributes: true));
        Assert.Contains("rnoexec", MountOptions.KnownWords(recursiveAttributes: true));
        Assert.DoesNotContain("rro", MountOptions.KnownWords(recursiveAttributes: false));
        Assert.Contains("ro", MountOptions.KnownWords(recursiveAttributes: false));
        // Every listed word must parse to something other than file system data.
        Assert.All(MountOptions.KnownWords(recursiveAttributes: true), word => Assert.Equal("", MountOptions.Parse("tmpfs", [word]).Data));
    }
}
