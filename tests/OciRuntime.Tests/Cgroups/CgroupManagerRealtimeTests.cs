using CriOci.Core;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Cgroups;

/// <summary>The real-time budget files, on a v1 cpu hierarchy faked by a temporary directory.</summary>
public sealed class CgroupManagerRealtimeTests : IDisposable
{
    private readonly string _cpuRoot = Directory.CreateTempSubdirectory("cgroup-rt-").FullName;
    private readonly string _container;
    private readonly CgroupManager _manager;

    public CgroupManagerRealtimeTests()
    {
        _container = Path.Combine(_cpuRoot, "pod", "c");
        Directory.CreateDirectory(_container);
        var hierarchy = new CgroupHierarchy(CgroupMode.Legacy, [new CgroupMount(_cpuRoot, false, new HashSet<string> { "cpu", "cpuacct" })]);
        _manager = new CgroupManager(hierarchy, "/pod/c");
    }

    public void Dispose() => Directory.Delete(_cpuRoot, recursive: true);

    [Fact]
    public void Update_KernelWithRealtimeGroups_WritesBothFiles()
    {
        File.WriteAllText(Path.Combine(_container, "cpu.rt_period_us"), "1000000");
        File.WriteAllText(Path.Combine(_container, "cpu.rt_runtime_us"), "0");

        _manager.Update(new ResourcesSpec { Cpu = new CpuSpec { RealtimeRuntime = 20_000, RealtimePeriod = 400_000 } });

        Assert.Equal("400000", File.ReadAllText(Path.Combine(_container, "cpu.rt_period_us")));
        Assert.Equal("20000", File.ReadAllText(Path.Combine(_container, "cpu.rt_runtime_us")));
    }

    [Fact]
    public void Update_KernelWithoutRealtimeGroups_NamesTheMissingConfigOption()
    {
        var error = Assert.Throws<InvalidArgumentException>(() =>
            _manager.Update(new ResourcesSpec { Cpu = new CpuSpec { RealtimeRuntime = 20_000 } }));

        Assert.Contains("CONFIG_RT_GROUP_SCHED", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_container, "cpu.rt_runtime_us")));
    }

    [Fact]
    public void Update_NoRealtimeFields_LeavesTheFilesAlone()
    {
        _manager.Update(new ResourcesSpec { Cpu = new CpuSpec() });

        Assert.Empty(Directory.GetFiles(_container));
    }
}
