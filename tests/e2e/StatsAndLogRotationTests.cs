using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>ContainerStats from the cgroup and the writable layer, and kubelet-style log rotation, through the CRI.</summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class StatsAndLogRotationTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonWithPod _pod = null!;

    public async Task InitializeAsync() => _pod = await DaemonWithPod.StartAsync(registry, "stats");

    public async Task DisposeAsync() => await _pod.DisposeAsync();

    private RuntimeService.RuntimeServiceClient Runtime => _pod.Runtime;

    private Task<string> StartAsync(string name, params string[] command) => _pod.StartContainerAsync(name, null, command);

    [Fact]
    public async Task ContainerStats_BusyContainer_ShowsCpuRisingMemoryAndWritableLayer()
    {
        var id = await StartAsync("busy", "sh", "-c", "head -c 2097152 /dev/zero > /tmp/two-mib; while true; do :; done");
        await Task.Delay(300);

        var first = (await Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;
        await Task.Delay(500);
        var second = (await Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;

        Assert.Equal(id, second.Attributes.Id);
        Assert.True(second.Cpu.UsageCoreNanoSeconds.Value > first.Cpu.UsageCoreNanoSeconds.Value, "CPU usage did not rise");
        Assert.True(second.Cpu.UsageNanoCores.Value > 0, "no CPU rate after two samples");
        Assert.True(second.Memory.WorkingSetBytes.Value > 0, "no working set");
        Assert.True(second.WritableLayer.UsedBytes.Value >= 2097152, $"writable layer {second.WritableLayer.UsedBytes.Value} bytes");
        var listed = await Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { PodSandboxId = _pod.PodId } });
        Assert.Contains(listed.Stats, s => s.Attributes.Id == id);
    }

    [Fact]
    public async Task PodSandboxStats_SumsContainers_AndCountsTheNetworkInterface()
    {
        var busy = await StartAsync("pod-busy", "sh", "-c", "ping -c 3 -i 0.2 10.87.0.1; while true; do :; done");
        var idle = await StartAsync("pod-idle", "sleep", "3600");
        await Task.Delay(1000);

        var stats = (await Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = _pod.PodId })).Stats;

        Assert.Equal(_pod.PodId, stats.Attributes.Id);
        Assert.Equal(new[] { busy, idle }.Order(), stats.Linux.Containers.Select(c => c.Attributes.Id).Order());
        Assert.Equal(stats.Linux.Containers.Sum(c => (double)c.Memory.WorkingSetBytes.Value), stats.Linux.Memory.WorkingSetBytes.Value);
        Assert.True(stats.Linux.Cpu.UsageCoreNanoSeconds.Value > 0, "no CPU usage");
        Assert.True(stats.Linux.Process.ProcessCount.Value >= 2, $"{stats.Linux.Process.ProcessCount.Value} processes");
        Assert.Equal("eth0", stats.Linux.Network.DefaultInterface.Name);
        Assert.True(stats.Linux.Network.DefaultInterface.TxBytes.Value > 0, "nothing transmitted on eth0 after a ping");
        Assert.DoesNotContain(stats.Linux.Network.Interfaces, i => i.Name == "lo");

        var listed = await Runtime.ListPodSandboxStatsAsync(new ListPodSandboxStatsRequest { Filter = new PodSandboxStatsFilter { LabelSelector = { ["app"] = "stats" } } });
        Assert.Equal(_pod.PodId, Assert.Single(listed.Stats).Attributes.Id);
        var none = await Runtime.ListPodSandboxStatsAsync(new ListPodSandboxStatsRequest { Filter = new PodSandboxStatsFilter { LabelSelector = { ["app"] = "other" } } });
        Assert.Empty(none.Stats);
    }

    [Fact]
    public async Task ListPodSandboxMetrics_ReportsCadvisorMetricsOfEveryContainer()
    {
        var id = await StartAsync("metrics", "sleep", "3600");

        var descriptors = (await Runtime.ListMetricDescriptorsAsync(new ListMetricDescriptorsRequest())).Descriptors;
        var metrics = (await Runtime.ListPodSandboxMetricsAsync(new ListPodSandboxMetricsRequest())).PodMetrics;

        Assert.Contains(descriptors, d => d.Name == "container_memory_working_set_bytes");
        var pod = Assert.Single(metrics, m => m.PodSandboxId == _pod.PodId);
        var container = Assert.Single(pod.ContainerMetrics, c => c.ContainerId == id);
        var workingSet = Assert.Single(container.Metrics, m => m.Name == "container_memory_working_set_bytes");
        Assert.True(workingSet.Value.Value > 0, "working set of a running sleep is 0");
        Assert.Equal(registry.BusyboxLatest.Reference, workingSet.LabelValues[2]);
        Assert.Contains(pod.Metrics, m => m.Name == "container_network_transmit_bytes_total" && m.LabelValues[3] == "eth0");
    }

    [Fact]
    public async Task PodSandboxStats_OfAnUnknownPod_IsNotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = "no-such-pod" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task ReopenContainerLog_AfterRename_NewLinesGoToTheNewFile()
    {
        // A numbered line every millisecond, as issue 7 asks: none may be lost or doubled across the rename.
        var id = await StartAsync("rotating", "sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.001; done");
        var log = Path.Combine(_pod.LogDirectory, "rotating", "0.log");
        await Task.Delay(300);

        File.Move(log, log + ".1");
        await Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id });
        await Task.Delay(300);
        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        await Task.Delay(100);

        var numbers = File.ReadLines(log + ".1").Concat(File.ReadLines(log))
            .Select(line => int.Parse(line.Split(' ', 4)[3]["line-".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.NotEmpty(File.ReadLines(log));
        Assert.Equal(Enumerable.Range(0, numbers.Count), numbers);
    }

    [Fact]
    public async Task ReopenContainerLog_OfAStoppedContainer_IsFailedPrecondition()
    {
        var id = await StartAsync("done", "echo", "bye");
        await _pod.WaitForExitAsync(id, TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }
}
