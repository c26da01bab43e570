using CriOci.OciRuntime.Cgroups;

namespace CriOci.OciRuntime.Tests.Cgroups;

public sealed class CgroupHierarchyTests
{
    private const string HybridMountinfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    [Fact]
    public void Parse_V1PlusCgroup2_IsHybridWithControllers()
    {
        var hierarchy = CgroupHierarchy.Parse(HybridMountinfo.Split('\n'));

        Assert.Equal(CgroupMode.Hybrid, hierarchy.Mode);
        Assert.Equal("/sys/fs/cgroup/unified", hierarchy.V2!.MountPoint);
        var cpu = Assert.Single(hierarchy.V1, m => m.Controllers.Contains("cpu"));
        Assert.Contains("cpuacct", cpu.Controllers);
        Assert.Contains(hierarchy.V1, m => m.Controllers.Contains("name=systemd"));
        Assert.DoesNotContain(hierarchy.V1, m => m.Controllers.Contains("xattr") || m.Controllers.Contains("rw"));
    }

    [Fact]
    public void Parse_OnlyCgroup2_IsUnified()
    {
        var hierarchy = CgroupHierarchy.Parse(["30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate"]);

        Assert.Equal(CgroupMode.Unified, hierarchy.Mode);
        Assert.Empty(hierarchy.V1);
    }

    [Fact]
    public void Parse_OnlyV1_IsLegacy()
    {
        var hierarchy = CgroupHierarchy.Parse(["35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory"]);

        Assert.Equal(CgroupMode.Legacy, hierarchy.Mode);
        Assert.Null(hierarchy.V2);
    }

    [Fact]
    public void Detect_ThisHost_FindsAMemoryController()
    {
        var hierarchy = CgroupHierarchy.Detect();

        Assert.True(hierarchy.V1.Any(m => m.Controllers.Contains("memory")) || hierarchy.V2 is not null,
            "no cgroup memory controller is mounted on this host");
    }
}
