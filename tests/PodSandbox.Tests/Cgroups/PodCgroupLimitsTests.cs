using CriOci.Cri.V1;
using CriOci.PodSandbox.Cgroups;

namespace CriOci.PodSandbox.Tests.Cgroups;

public sealed class PodCgroupLimitsTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Sum_ResourcesAndOverhead_MemoryAndSharesAdded()
    {
        var limits = PodCgroupLimits.Sum(
            new LinuxContainerResources { MemoryLimitInBytes = 256 * MiB, CpuShares = 512 },
            new LinuxContainerResources { MemoryLimitInBytes = 64 * MiB, CpuShares = 102 });

        Assert.Equal(320 * MiB, limits!.Memory!.Limit);
        Assert.Equal(614UL, limits.Cpu!.Shares);
        Assert.Null(limits.Cpu.Quota);
    }

    [Fact]
    public void Sum_ContainersUnlimited_NoMemoryLimitEvenWithOverhead()
    {
        var limits = PodCgroupLimits.Sum(
            new LinuxContainerResources { CpuShares = 2 },
            new LinuxContainerResources { MemoryLimitInBytes = 64 * MiB });

        Assert.Null(limits!.Memory);
    }

    [Fact]
    public void Sum_OverheadQuotaOnAnotherPeriod_RescaledToThePodsPeriod()
    {
        var limits = PodCgroupLimits.Sum(
            new LinuxContainerResources { CpuQuota = 50_000, CpuPeriod = 100_000 },
            new LinuxContainerResources { CpuQuota = 5_000, CpuPeriod = 50_000 });

        Assert.Equal(60_000, limits!.Cpu!.Quota);
        Assert.Equal(100_000UL, limits.Cpu.Period);
    }

    [Fact]
    public void Sum_QuotaWithoutPeriod_KubeletsDefaultPeriod()
    {
        var limits = PodCgroupLimits.Sum(new LinuxContainerResources { CpuQuota = 20_000 }, null);

        Assert.Equal((20_000L, 100_000UL), (limits!.Cpu!.Quota!.Value, limits.Cpu.Period!.Value));
    }

    [Fact]
    public void Sum_HugepagesAndCpuset_HugepagesAddedPerSizeCpusetFromResources()
    {
        var resources = new LinuxContainerResources { CpusetCpus = "0", CpusetMems = "0" };
        resources.HugepageLimits.Add(new HugepageLimit { PageSize = "2MB", Limit = 4 * 2 * (ulong)MiB });
        var overhead = new LinuxContainerResources { CpusetCpus = "1" };
        overhead.HugepageLimits.Add(new HugepageLimit { PageSize = "2MB", Limit = 2 * (ulong)MiB });
        overhead.HugepageLimits.Add(new HugepageLimit { PageSize = "1GB", Limit = 1024 * (ulong)MiB });

        var limits = PodCgroupLimits.Sum(resources, overhead);

        var hugepage = Assert.Single(limits!.HugepageLimits!);
        Assert.Equal(("2MB", 10 * (ulong)MiB), (hugepage.PageSize, hugepage.Limit));
        Assert.Equal(("0", "0"), (limits.Cpu!.Cpus, limits.Cpu.Mems));
    }

    [Fact]
    public void Sum_Unified_PassedAsGiven()
    {
        var resources = new LinuxContainerResources();
        resources.Unified.Add("memory.high", "1000000");

        var limits = PodCgroupLimits.Sum(resources, null);

        Assert.Equal("1000000", limits!.Unified!["memory.high"]);
    }

    [Fact]
    public void Sum_NothingLimited_Null()
    {
        Assert.Null(PodCgroupLimits.Sum(null, null));
        Assert.Null(PodCgroupLimits.Sum(new LinuxContainerResources(), new LinuxContainerResources()));
    }
}
