using System.Globalization;
using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Tests.Linux;

public sealed class CapabilitiesTests
{
    public static TheoryData<string, int> NumberCases => new()
    {
        { "CAP_CHOWN", 0 },
        { "CHOWN", 0 },
        { "chown", 0 },
        { "cap_chown", 0 },
        { "CAP_KILL", 5 },
        { "NET_BIND_SERVICE", 10 },
        { "CAP_NET_RAW", 13 },
        { "SYS_ADMIN", 21 },
        { "Cap_Sys_Admin", 21 },
        { "CAP_MKNOD", 27 },
        { "AUDIT_WRITE", 29 },
        { "CAP_SETFCAP", 31 },
        { "CAP_MAC_OVERRIDE", 32 },
        { "CAP_PERFMON", 38 },
        { "CAP_BPF", 39 },
        { "CHECKPOINT_RESTORE", 40 },
    };

    [Theory]
    [MemberData(nameof(NumberCases))]
    public void Number_KnownNameWithOrWithoutPrefix_ReturnsKernelNumber(string name, int expected)
    {
        var number = Capabilities.Number(name);

        Assert.Equal(expected, number);
    }

    [Theory]
    [InlineData("")]
    [InlineData("CAP_")]
    [InlineData("ALL")]
    [InlineData("CAP_BOGUS")]
    [InlineData("CAPCHOWN")]
    public void Number_UnknownName_ReturnsNull(string name)
    {
        var number = Capabilities.Number(name);

        Assert.Null(number);
    }

    [Fact]
    public void All_Always_ListsFortyOneCapabilitiesInKernelOrder()
    {
        var all = Capabilities.All;

        Assert.Equal(41, all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            Assert.Equal(i, Capabilities.Number(all[i]));
        }
    }

    [Fact]
    public void Mask_MixedNames_SetsOneBitPerCapability()
    {
        var mask = Capabilities.Mask(["CAP_CHOWN", "kill", "SYS_ADMIN", "CAP_CHECKPOINT_RESTORE", "CAP_KILL"]);

        Assert.Equal((1UL << 0) | (1UL << 5) | (1UL << 21) | (1UL << 40), mask);
    }

    [Fact]
    public void Mask_NullOrEmpty_ReturnsZero()
    {
        Assert.Equal(0UL, Capabilities.Mask(null));
        Assert.Equal(0UL, Capabilities.Mask([]));
    }

    [Fact]
    public void Mask_UnknownName_ThrowsNamingIt()
    {
        var exception = Assert.Throws<ArgumentException>(() => Capabilities.Mask(["CAP_CHOWN", "CAP_FLY"]));

        Assert.Contains("CAP_FLY", exception.Message);
    }

    [Fact]
    public void LastCapability_OnThisKernel_MatchesProc()
    {
        var expected = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);

        Assert.Equal(expected, Capabilities.LastCapability());
    }

    [Fact]
    public void BoundingSet_OfThisProcess_MatchesCapBndInProcStatus()
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapBnd:", StringComparison.Ordinal));
        var expected = ulong.Parse(line["CapBnd:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        Assert.Equal(expected, Capabilities.BoundingSet());
    }
}
