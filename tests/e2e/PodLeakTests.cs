using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// Issue 4: pods come and go thousands of times a day on a node, and none may leave anything
/// behind. Each cycle is a whole pod with one running container (so cgroups, monitors and
/// container processes are exercised too, not only the sandbox's namespaces and network).
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class PodLeakTests(RegistryFixture registry, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Cycles = 200;

    private IsolatedDaemon _node = null!;

    public async Task InitializeAsync() => _node = await IsolatedDaemon.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task PodCycles_200OnBridgeNetwork_LeaveNoPinVethIpamMountCgroupOrProcess()
    {
        var image = registry.BusyboxLatest.Reference;
        await _node.Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        // kubelet creates its QoS cgroups once when it starts; its pods' cgroups come and go below them.
        var qos = _node.CgroupParent + "/kubepods/burstable";
        foreach (var hierarchy in HostInspection.CgroupHierarchies())
        {
            Directory.CreateDirectory(hierarchy + qos);
        }
        var before = _node.Footprint();
        output.WriteLine($"before {Cycles} cycles: {before.Counts}");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        NodeFootprint? during = null;
        string? kubeletPodCgroup = null;
        for (var i = 0; i < Cycles; i++)
        {
            // Odd cycles as kubelet runs a Burstable pod: its own pod cgroup with overhead and the
            // containers' sum; even ones directly in the daemon's cgroup parent (crictl-style).
            Action<PodSandboxConfig>? kubeletStyle = i % 2 == 1 ? config =>
            {
                config.Linux.CgroupParent = $"{qos}/pod{config.Metadata.Uid}";
                config.Linux.Overhead = new LinuxContainerResources { MemoryLimitInBytes = 16 << 20, CpuShares = 32 };
                config.Linux.Resources = new LinuxContainerResources { MemoryLimitInBytes = 64 << 20, CpuShares = 256 };
                kubeletPodCgroup ??= config.Linux.CgroupParent;
            } : null;
            await PodCycle.RunAsync(_node, image, $"leak-{i}", i == 1 ? () => during = _node.Footprint() : null, kubeletStyle);
        }
        output.WriteLine($"{Cycles} cycles in {clock.Elapsed.TotalSeconds:0.0} s");

        // Each count must see a live pod, or a leak of that kind could never show.
        output.WriteLine($"while the first pod ran: {during!.Counts}");
        Assert.NotEmpty(during.Mounts);
        Assert.NotEmpty(during.NetworkNamespacePins);
        Assert.Contains(during.Cgroups, cgroup => cgroup.EndsWith(kubeletPodCgroup!, StringComparison.Ordinal));
        Assert.Contains(during.Cgroups, cgroup => cgroup.Contains(kubeletPodCgroup! + "/", StringComparison.Ordinal));
        Assert.NotEmpty(during.Veths);
        Assert.NotEmpty(during.IpamAllocations);
        Assert.NotEmpty(during.Monitors);
        Assert.NotEmpty(during.ContainerProcesses);

        var after = await NodeFootprint.SettleAsync(_node.Footprint, before, TimeSpan.FromSeconds(15));
        output.WriteLine($"after {Cycles} cycles: {after.Counts}");
        Assert.True(after.DifferencesFrom(before).Length == 0, "left behind:\n" + after.DifferencesFrom(before));
        Assert.Empty((await _node.Daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.Daemon.StateDirectory, "pods")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.Daemon.RootDirectory, "pods")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.Daemon.StateDirectory, "containers")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_node.Daemon.RootDirectory, "containers")));
    }
}
