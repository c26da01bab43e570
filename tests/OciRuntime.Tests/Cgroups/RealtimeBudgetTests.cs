using CriOci.Core;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cgroups;

/// <summary>
/// Real-time budgets on this machine's v1 cpu hierarchy. The kernel must be built with
/// CONFIG_RT_GROUP_SCHED (cpu.rt_runtime_us exists); without it the test fails and says so.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class RealtimeBudgetTests : IDisposable
{
    private readonly string _parentPath = $"/crioci-test-rt-{Guid.NewGuid():N}";
    private readonly string _cpuRoot;
    private readonly CgroupHierarchy _hierarchy = CgroupHierarchy.Detect();

    public RealtimeBudgetTests()
    {
        RuntimeBinary.RequireRoot();
        _cpuRoot = _hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains("cpu"))?.MountPoint
            ?? throw new InvalidOperationException("Missing test prerequisite: no cgroup v1 cpu hierarchy is mounted");
        if (!File.Exists(Path.Combine(_cpuRoot, "cpu.rt_runtime_us")))
        {
            throw new InvalidOperationException($"Missing test prerequisite: this kernel has no CONFIG_RT_GROUP_SCHED ({_cpuRoot}/cpu.rt_runtime_us is missing)");
        }
    }

    public void Dispose()
    {
        foreach (var directory in new[] { _cpuRoot + _parentPath + "/child", _cpuRoot + _parentPath })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory);
            }
        }
    }

    [Fact]
    public void Create_BudgetUnderTheRoot_KernelHoldsIt()
    {
        var manager = new CgroupManager(_hierarchy, _parentPath);

        Directory.CreateDirectory(_cpuRoot + _parentPath);
        manager.Update(Budget(runtime: 10_000, period: 500_000));

        Assert.Equal("500000", Read(_parentPath, "cpu.rt_period_us"));
        Assert.Equal("10000", Read(_parentPath, "cpu.rt_runtime_us"));
    }

    [Fact]
    public void Update_PeriodBelowTheOldRuntime_SucceedsInTheOtherOrder()
    {
        var manager = new CgroupManager(_hierarchy, _parentPath);
        Directory.CreateDirectory(_cpuRoot + _parentPath);
        manager.Update(Budget(runtime: 50_000, period: 1_000_000));

        // Period first would put 50000us of runtime in a 40000us period, which the kernel refuses.
        manager.Update(Budget(runtime: 20_000, period: 40_000));

        Assert.Equal("40000", Read(_parentPath, "cpu.rt_period_us"));
        Assert.Equal("20000", Read(_parentPath, "cpu.rt_runtime_us"));
    }

    [Fact]
    public void Update_ParentWithoutBudget_ErrorNamesTheParentsBudget()
    {
        Directory.CreateDirectory(_cpuRoot + _parentPath + "/child");
        var child = new CgroupManager(_hierarchy, _parentPath + "/child");

        var error = Assert.Throws<InvalidArgumentException>(() => child.Update(Budget(runtime: 10_000, period: 1_000_000)));

        Assert.Contains("refused the real-time budget", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the parent {_cpuRoot}{_parentPath} has cpu.rt_runtime_us=0", error.Message, StringComparison.Ordinal);
        Assert.Equal("0", Read(_parentPath + "/child", "cpu.rt_runtime_us"));
    }

    [Fact]
    public void Update_ParentGivenABudgetFirst_ChildGetsItsShare()
    {
        Directory.CreateDirectory(_cpuRoot + _parentPath + "/child");
        new CgroupManager(_hierarchy, _parentPath).Update(Budget(runtime: 20_000, period: 1_000_000));

        new CgroupManager(_hierarchy, _parentPath + "/child").Update(Budget(runtime: 10_000, period: 1_000_000));

        Assert.Equal("10000", Read(_parentPath + "/child", "cpu.rt_runtime_us"));
    }

    private static ResourcesSpec Budget(long runtime, ulong period) =>
        new() { Cpu = new CpuSpec { RealtimeRuntime = runtime, RealtimePeriod = period } };

    private string Read(string cgroupPath, string file) => File.ReadAllText(Path.Combine(_cpuRoot + cgroupPath, file)).Trim();
}
