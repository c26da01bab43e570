using System.Globalization;
using System.Net;
using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// Issue 4: the pod-level cgroup (kubelet-style cgroup_parent with overhead and resources),
/// containers nested in it, and the CNI parts a pod's network gets beyond ADD/DEL: CHECK and
/// ipRanges. Each test has a daemon of its own (<see cref="IsolatedDaemon"/>): its own cgroup
/// parent, under which the kubelet-style /kubepods/burstable/pod&lt;uid&gt; path is built, and its own
/// bridge network.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class PodCgroupTests(RegistryFixture registry, ITestOutputHelper output) : IAsyncLifetime
{
    private const long MiB = 1024 * 1024;

    private IsolatedDaemon _node = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    private RuntimeService.RuntimeServiceClient Runtime => _node.Daemon.Client.Runtime;

    private static IReadOnlyList<string> Hierarchies => HostInspection.CgroupHierarchies();

    /// <summary>The v1 hierarchy with <paramref name="controller"/> (this host is hybrid, as DESIGN.md says), else cgroup2.</summary>
    private static string ControllerRoot(string controller) =>
        Hierarchies.FirstOrDefault(h => Path.GetFileName(h).Split(',').Contains(controller))
        ?? Hierarchies.FirstOrDefault(h => File.Exists(Path.Combine(h, "cgroup.controllers")))
        ?? throw new InvalidOperationException($"no cgroup hierarchy has the {controller} controller");

    private static string Read(string controller, string cgroup, string file) =>
        File.ReadAllText(Path.Combine(ControllerRoot(controller) + cgroup, file)).Trim();

    private async Task<string> StartNodeAsync(bool ipRangesCapability = false)
    {
        _node = await IsolatedDaemon.StartAsync(ipRangesCapability);
        var image = registry.BusyboxLatest.Reference;
        await _node.Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        return image;
    }

    /// <summary>kubelet's shape for a Burstable pod: cgroup_parent /kubepods/burstable/pod&lt;uid&gt; (below the test's parent), overhead and the containers' sum.</summary>
    private PodSandboxConfig KubeletPod(string name, out string podCgroup)
    {
        var config = _node.Pod(name);
        podCgroup = $"{_node.CgroupParent}/kubepods/burstable/pod{config.Metadata.Uid}";
        config.Linux = new LinuxPodSandboxConfig
        {
            CgroupParent = podCgroup,
            Overhead = new LinuxContainerResources { MemoryLimitInBytes = 32 * MiB, CpuShares = 64, CpuQuota = 10_000, CpuPeriod = 100_000 },
            Resources = new LinuxContainerResources { MemoryLimitInBytes = 96 * MiB, CpuShares = 512, CpuQuota = 50_000, CpuPeriod = 100_000 },
        };
        return config;
    }

    private async Task<(string Pod, string Container)> RunPodWithContainerAsync(PodSandboxConfig config, string image)
    {
        var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
        var container = (await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod,
            Config = CriRequests.Container("app", image, "sleep", "3600"),
            SandboxConfig = config,
        })).ContainerId;
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container });
        return (pod, container);
    }

    private async Task<int> ContainerPidAsync(string container)
    {
        var status = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = container, Verbose = true });
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("pid").GetInt32();
    }

    private async Task RemovePodAsync(string pod)
    {
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
    }

    [Fact]
    public async Task RunPodSandbox_KubeletParentWithOverhead_PodCgroupHasTheSumContainerNestedAndRemovedWithThePod()
    {
        var image = await StartNodeAsync();
        var config = KubeletPod("sized", out var podCgroup);

        var (pod, container) = await RunPodWithContainerAsync(config, image);

        // resources (the containers' sum) + overhead, as kubelet sizes a pod cgroup.
        Assert.Equal((128 * MiB).ToString(CultureInfo.InvariantCulture), Read("memory", podCgroup, "memory.limit_in_bytes"));
        Assert.Equal("576", Read("cpu", podCgroup, "cpu.shares"));
        Assert.Equal("60000", Read("cpu", podCgroup, "cpu.cfs_quota_us"));
        Assert.Equal("100000", Read("cpu", podCgroup, "cpu.cfs_period_us"));

        // The container's process is in <pod cgroup>/<container id> on every hierarchy it is in.
        var pid = await ContainerPidAsync(container);
        var cgroups = File.ReadAllLines($"/proc/{pid}/cgroup");
        output.WriteLine(string.Join('\n', cgroups));
        var memoryLine = cgroups.Single(line => line.Split(':')[1].Split(',').Contains("memory"));
        Assert.Equal($"{podCgroup}/{container}", memoryLine.Split(':', 3)[2]);
        var cpuLine = cgroups.Single(line => line.Split(':')[1].Split(',').Contains("cpu"));
        Assert.Equal($"{podCgroup}/{container}", cpuLine.Split(':', 3)[2]);
        var exec = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = container, Cmd = { "cat", "/proc/self/cgroup" }, Timeout = 10 });
        Assert.Equal(0, exec.ExitCode);
        output.WriteLine("inside: " + exec.Stdout.ToStringUtf8());
        // The exec'd process is in the container's cgroup on every hierarchy: the same path the
        // host sees for the container's process, or "/" where the container has a cgroup
        // namespace of its own (rooted at its cgroup).
        var inside = exec.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(line => line[..line.IndexOf(':', line.IndexOf(':') + 1)], line => line.Split(':', 3)[2]);
        Assert.All(cgroups.Where(line => line.Length > 0), line =>
        {
            var hierarchy = line[..line.IndexOf(':', line.IndexOf(':') + 1)];
            Assert.True(inside.TryGetValue(hierarchy, out var path), $"the exec'd process has no {hierarchy} line");
            Assert.True(path == line.Split(':', 3)[2] || path == "/", $"exec'd process on {hierarchy}: {path}, the container's process: {line}");
        });

        await RemovePodAsync(pod);

        Assert.All(Hierarchies, hierarchy => Assert.False(Directory.Exists(hierarchy + podCgroup), hierarchy + podCgroup));
        // kubelet's QoS level is shared by pods and never ours to remove.
        Assert.True(Directory.Exists(ControllerRoot("memory") + _node.CgroupParent + "/kubepods/burstable"));
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
    }

    [Fact]
    public async Task RemovePodSandbox_PodCgroupExistedBefore_LeftInPlaceForItsOwner()
    {
        var image = await StartNodeAsync();
        var config = KubeletPod("kubelet-owned", out var podCgroup);
        foreach (var hierarchy in Hierarchies)
        {
            Directory.CreateDirectory(hierarchy + podCgroup);
        }

        var (pod, container) = await RunPodWithContainerAsync(config, image);
        Assert.Equal((128 * MiB).ToString(CultureInfo.InvariantCulture), Read("memory", podCgroup, "memory.limit_in_bytes"));
        await RemovePodAsync(pod);

        Assert.All(Hierarchies, hierarchy => Assert.True(Directory.Exists(hierarchy + podCgroup), hierarchy + podCgroup));
        Assert.All(Hierarchies, hierarchy => Assert.False(Directory.Exists($"{hierarchy}{podCgroup}/{container}")));
    }

    [Fact]
    public async Task UpdatePodSandboxResources_NewTotals_PodCgroupLimitsFollow()
    {
        var image = await StartNodeAsync();
        var config = KubeletPod("resized", out var podCgroup);
        var (pod, _) = await RunPodWithContainerAsync(config, image);

        await Runtime.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest
        {
            PodSandboxId = pod,
            Overhead = config.Linux.Overhead,
            Resources = new LinuxContainerResources { MemoryLimitInBytes = 224 * MiB, CpuShares = 1024, CpuQuota = 100_000, CpuPeriod = 100_000 },
        });

        Assert.Equal((256 * MiB).ToString(CultureInfo.InvariantCulture), Read("memory", podCgroup, "memory.limit_in_bytes"));
        Assert.Equal("1088", Read("cpu", podCgroup, "cpu.shares"));
        Assert.Equal("110000", Read("cpu", podCgroup, "cpu.cfs_quota_us"));
        var status = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod });
        Assert.Equal(Grpc.Core.StatusCode.NotFound, (await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await Runtime.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest { PodSandboxId = "0000ffff" }))).StatusCode);
        await RemovePodAsync(pod);
        Assert.Equal(PodSandboxState.SandboxReady, status.Status.State);
    }

    [Fact]
    public async Task PodSandboxStatusVerbose_HealthyThenVethDeleted_CniCheckPassesThenFails()
    {
        var image = await StartNodeAsync();
        var (pod, _) = await RunPodWithContainerAsync(_node.Pod("checked"), image);

        var healthy = await NetworkCheckAsync(pod);
        Assert.True(healthy.GetProperty("performed").GetBoolean(), healthy.ToString());
        Assert.True(healthy.GetProperty("succeeded").GetBoolean(), healthy.ToString());

        var veth = Assert.Single(_node.Network.Veths());
        await CommandRunner.RunAsync("ip", ["link", "del", veth]);
        var broken = await NetworkCheckAsync(pod);
        output.WriteLine(broken.ToString());

        Assert.True(broken.GetProperty("performed").GetBoolean(), broken.ToString());
        Assert.False(broken.GetProperty("succeeded").GetBoolean(), broken.ToString());
        await RemovePodAsync(pod);
        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
    }

    private async Task<JsonElement> NetworkCheckAsync(string pod)
    {
        var status = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod, Verbose = true });
        return JsonDocument.Parse(status.Info["networkCheck"]).RootElement.Clone();
    }

    [Fact]
    public async Task UpdateRuntimeConfig_PodCidr_ReachesHostLocalAsIpRanges()
    {
        var image = await StartNodeAsync(ipRangesCapability: true);
        // Off the test network's own subnets (10.200.0.0/13), so an address from it proves ipRanges won.
        var podCidr = $"10.{208 + Random.Shared.Next(8)}.{Random.Shared.Next(256)}.0/24";
        await Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = podCidr } },
        });

        var (pod, _) = await RunPodWithContainerAsync(_node.Pod("ranged"), image);

        var ip = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod })).Status.Network.Ip;
        output.WriteLine($"pod CIDR {podCidr}, network subnet {_node.Network.Subnet}, pod IP {ip}");
        Assert.True(IPNetwork.Parse(podCidr).Contains(IPAddress.Parse(ip)), $"{ip} is not in {podCidr}");
        Assert.Contains(ip, _node.Network.IpamAllocations());
        await RemovePodAsync(pod);
        Assert.Empty(_node.Network.IpamAllocations());
    }
}
