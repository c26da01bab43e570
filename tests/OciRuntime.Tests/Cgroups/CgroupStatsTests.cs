using CriOci.OciRuntime.Cgroups;

namespace CriOci.OciRuntime.Tests.Cgroups;

public sealed class CgroupStatsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cgroup-stats-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, string content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Read_V1Files_ComputesWorkingSetAsUsageMinusInactiveFile()
    {
        Write("memory/pod/c/memory.usage_in_bytes", "1000000\n");
        Write("memory/pod/c/memory.stat", "cache 5\ntotal_inactive_file 250000\ntotal_rss 600000\ntotal_pgfault 42\ntotal_pgmajfault 3\n");
        Write("cpuacct/pod/c/cpuacct.usage", "123456789\n");
        Write("pids/pod/c/pids.current", "4\n");
        var hierarchy = new CgroupHierarchy(CgroupMode.Legacy,
        [
            new CgroupMount(Path.Combine(_root, "memory"), false, new HashSet<string> { "memory" }),
            new CgroupMount(Path.Combine(_root, "cpuacct"), false, new HashSet<string> { "cpu", "cpuacct" }),
            new CgroupMount(Path.Combine(_root, "pids"), false, new HashSet<string> { "pids" }),
        ]);

        var stats = CgroupStats.Read(hierarchy, "/pod/c");

        Assert.Equal(new CgroupStats(123456789, 1000000, 750000, 600000, 42, 3, 4), stats);
    }

    [Fact]
    public void Read_V2Files_ConvertsMicrosecondsToNanoseconds()
    {
        Write("pod/c/cpu.stat", "usage_usec 2000\nuser_usec 1500\n");
        Write("pod/c/memory.current", "4096\n");
        Write("pod/c/memory.stat", "anon 1024\ninactive_file 1000\npgfault 7\npgmajfault 1\n");
        Write("pod/c/pids.current", "2\n");
        var hierarchy = new CgroupHierarchy(CgroupMode.Unified, [new CgroupMount(_root, true, new HashSet<string>())]);

        var stats = CgroupStats.Read(hierarchy, "/pod/c");

        Assert.Equal(new CgroupStats(2_000_000, 4096, 3096, 1024, 7, 1, 2), stats);
    }

    [Fact]
    public void Read_MissingCgroup_ReportsZeros()
    {
        var hierarchy = new CgroupHierarchy(CgroupMode.Unified, [new CgroupMount(_root, true, new HashSet<string>())]);

        Assert.Equal(new CgroupStats(0, 0, 0, 0, 0, 0, 0), CgroupStats.Read(hierarchy, "/gone"));
    }
}
