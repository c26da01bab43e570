using CriOci.Cri.V1;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Cgroups;

namespace CriOci.PodSandbox.Tests.Cgroups;

/// <summary>PodCgroup on the host's real cgroup hierarchies (v1, v2 or hybrid), under a parent of its own.</summary>
[Trait("Category", "Privileged")]
public sealed class PodCgroupTests : IDisposable
{
    private const long MemoryLimit = 64 * 1024 * 1024;

    private readonly CgroupHierarchy _hierarchy = CgroupHierarchy.Detect();
    private readonly string _parent = "/crioci-unit-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _recordDirectory = Directory.CreateTempSubdirectory("crioci-podcg-").FullName;

    private string PodPath => _parent + "/burstable/pod1234";

    private static ResourcesSpec Limits => new() { Memory = new MemorySpec { Limit = MemoryLimit }, Cpu = new CpuSpec { Shares = 256 } };

    public void Dispose()
    {
        foreach (var mount in _hierarchy.Mounts)
        {
            var root = mount.MountPoint + _parent;
            if (Directory.Exists(root))
            {
                foreach (var directory in Directory.GetDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(root))
                {
                    Directory.Delete(directory);
                }
            }
        }
        Directory.Delete(_recordDirectory, recursive: true);
    }

    private IEnumerable<string> PodDirectories => _hierarchy.Mounts.Select(m => m.MountPoint + PodPath);

    private string MemoryLimitFile() =>
        _hierarchy.V1.FirstOrDefault(m => m.Controllers.Contains("memory")) is { } v1
            ? Path.Combine(v1.MountPoint + PodPath, "memory.limit_in_bytes")
            : Path.Combine(_hierarchy.V2!.MountPoint + PodPath, "memory.max");

    [Fact]
    public void PathFor_KubeletParent_IsThePodCgroup_ElseOnePerPodUnderCrioci()
    {
        var kubelet = new PodSandboxConfig { Linux = new LinuxPodSandboxConfig { CgroupParent = "/kubepods/burstable/pod1234/" } };

        Assert.Equal("/kubepods/burstable/pod1234", PodCgroup.PathFor("abc", kubelet));
        Assert.Equal("/crioci/abc", PodCgroup.PathFor("abc", new PodSandboxConfig()));
    }

    [Fact]
    public void Create_Missing_CreatedOnEveryHierarchyWithLimits_RemoveDeletesItButNotItsParents()
    {
        var cgroup = new PodCgroup(_hierarchy);

        cgroup.Create(PodPath, Limits, _recordDirectory);

        Assert.All(PodDirectories, directory => Assert.True(Directory.Exists(directory), directory));
        Assert.Equal(MemoryLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(MemoryLimitFile()).Trim());
        Assert.True(cgroup.Remove(_recordDirectory));
        Assert.All(PodDirectories, directory => Assert.False(Directory.Exists(directory), directory));
        Assert.All(_hierarchy.Mounts, mount => Assert.True(Directory.Exists(mount.MountPoint + _parent + "/burstable")));
        Assert.True(cgroup.Remove(_recordDirectory), "a second removal is a no-op");
    }

    [Fact]
    public void Create_ExistedBefore_LimitsAppliedButLeftInPlaceOnRemove()
    {
        foreach (var directory in PodDirectories)
        {
            Directory.CreateDirectory(directory);
        }
        var cgroup = new PodCgroup(_hierarchy);

        cgroup.Create(PodPath, Limits, _recordDirectory);
        cgroup.Remove(_recordDirectory);

        Assert.Equal(MemoryLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(MemoryLimitFile()).Trim());
        Assert.All(PodDirectories, directory => Assert.True(Directory.Exists(directory), directory));
    }

    [Fact]
    public void Remove_ChildCgroupsStillBelow_LeftInPlaceAndReported()
    {
        var cgroup = new PodCgroup(_hierarchy);
        cgroup.Create(PodPath, null, _recordDirectory);
        Directory.CreateDirectory(PodDirectories.First() + "/container1");

        Assert.False(cgroup.Remove(_recordDirectory));

        Assert.True(Directory.Exists(PodDirectories.First() + "/container1"));
    }

    [Fact]
    public void Update_NewLimits_Written()
    {
        var cgroup = new PodCgroup(_hierarchy);
        cgroup.Create(PodPath, Limits, _recordDirectory);

        cgroup.Update(PodPath, new ResourcesSpec { Memory = new MemorySpec { Limit = 2 * MemoryLimit } });

        Assert.Equal((2 * MemoryLimit).ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(MemoryLimitFile()).Trim());
        cgroup.Remove(_recordDirectory);
    }
}
