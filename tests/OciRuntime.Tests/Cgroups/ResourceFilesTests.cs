using CriOci.Core;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Cgroups;

public sealed class ResourceFilesTests
{
    private static readonly ResourcesSpec Typical = new()
    {
        Memory = new MemorySpec { Limit = 64 << 20, Swap = 128 << 20, Reservation = 32 << 20 },
        Cpu = new CpuSpec { Shares = 512, Quota = 50_000, Period = 100_000, Cpus = "0", Mems = "0" },
        Pids = new PidsSpec { Limit = 100 },
        HugepageLimits = [new HugepageLimitSpec { PageSize = "2MB", Limit = 4 << 20 }],
    };

    [Fact]
    public void ForV1_TypicalResources_WritesTheV1Files()
    {
        var writes = ResourceFiles.ForV1(Typical, hugetlbOnV1: true);

        Assert.Equal(
        [
            new("memory", "memory.memsw.limit_in_bytes", "134217728"),
            new("memory", "memory.limit_in_bytes", "67108864"),
            new("memory", "memory.soft_limit_in_bytes", "33554432"),
            new("cpu", "cpu.shares", "512"),
            new("cpu", "cpu.cfs_period_us", "100000"),
            new("cpu", "cpu.cfs_quota_us", "50000"),
            new("cpuset", "cpuset.cpus", "0"),
            new("cpuset", "cpuset.mems", "0"),
            new("pids", "pids.max", "100"),
            new("hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304"),
        ], writes);
    }

    [Fact]
    public void ForV2_TypicalResources_WritesTheV2Files()
    {
        var writes = ResourceFiles.ForV2(Typical);

        Assert.Equal(
        [
            new("hugetlb", "hugetlb.2MB.max", "4194304"),
            new("memory", "memory.max", "67108864"),
            new("memory", "memory.low", "33554432"),
            new("memory", "memory.swap.max", "67108864"),
            new("cpu", "cpu.weight", "20"),
            new("cpu", "cpu.max", "50000 100000"),
            new("cpuset", "cpuset.cpus", "0"),
            new("cpuset", "cpuset.mems", "0"),
            new("pids", "pids.max", "100"),
        ], writes);
    }

    public static TheoryData<ulong, long> Weights => new()
    {
        { 2, 1 },
        { 1024, 39 },
        { 262144, 10000 },
        { 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Weights))]
    public void SharesToWeight_KnownPoints_MatchRuncConversion(ulong shares, long weight) =>
        Assert.Equal(weight, ResourceFiles.SharesToWeight(shares));

    [Fact]
    public void ForV1_DefaultDeviceRules_DenyAllThenAllowTheDefaults()
    {
        var writes = ResourceFiles.ForV1(new ResourcesSpec { Devices = SpecDefaults.DeviceRules }, hugetlbOnV1: false);

        Assert.Equal(new CgroupWrite("devices", "devices.deny", "a"), writes[0]);
        Assert.Contains(new CgroupWrite("devices", "devices.allow", "c 1:3 rwm"), writes);
        Assert.Contains(new CgroupWrite("devices", "devices.allow", "c 136:* rwm"), writes);
        Assert.Contains(new CgroupWrite("devices", "devices.allow", "c *:* m"), writes);
    }

    [Fact]
    public void ForV1_UnifiedKeys_AreRefusedWithAClearMessage()
    {
        var error = Assert.Throws<InvalidArgumentException>(() =>
            ResourceFiles.ForV1(new ResourcesSpec { Unified = new Dictionary<string, string> { ["memory.high"] = "1000000" } }, false));
        Assert.Contains("cgroup v2", error.Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("memory.high/../../x")]
    [InlineData("nodot")]
    public void ForV2_UnifiedKeyThatIsNotAFileName_IsRefused(string key) =>
        Assert.Throws<InvalidArgumentException>(() =>
            ResourceFiles.ForV2(new ResourcesSpec { Unified = new Dictionary<string, string> { [key] = "1" } }));

    [Fact]
    public void ForV2_UnlimitedSwapAndNoQuota_WriteMax()
    {
        var writes = ResourceFiles.ForV2(new ResourcesSpec
        {
            Memory = new MemorySpec { Limit = -1, Swap = -1 },
            Cpu = new CpuSpec { Period = 100_000 },
        });

        Assert.Contains(new CgroupWrite("memory", "memory.max", "max"), writes);
        Assert.Contains(new CgroupWrite("memory", "memory.swap.max", "max"), writes);
        Assert.Contains(new CgroupWrite("cpu", "cpu.max", "max 100000"), writes);
    }

    [Fact]
    public void ForV1_RealtimeBudget_WritesPeriodBeforeRuntime()
    {
        var writes = ResourceFiles.ForV1(new ResourcesSpec { Cpu = new CpuSpec { RealtimeRuntime = 10_000, RealtimePeriod = 500_000 } }, false);

        Assert.Equal(
        [
            new("cpu", "cpu.rt_period_us", "500000"),
            new("cpu", "cpu.rt_runtime_us", "10000"),
        ], writes);
    }

    [Fact]
    public void ForV1_RealtimeRuntimeUnlimited_WritesMinusOne()
    {
        var writes = ResourceFiles.ForV1(new ResourcesSpec { Cpu = new CpuSpec { RealtimeRuntime = -1 } }, false);

        Assert.Equal([new CgroupWrite("cpu", "cpu.rt_runtime_us", "-1")], writes);
    }

    [Fact]
    public void ForV2_RealtimeBudget_IsRefusedWithAClearMessage()
    {
        var error = Assert.Throws<InvalidArgumentException>(() =>
            ResourceFiles.ForV2(new ResourcesSpec { Cpu = new CpuSpec { RealtimeRuntime = 10_000 } }));

        Assert.Contains("cgroup v2 has no real-time group budgets", error.Message, StringComparison.Ordinal);
    }
}
