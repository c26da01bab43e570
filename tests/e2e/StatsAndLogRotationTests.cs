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
    public async Task ReopenContainerLog_AfterRename_NewLinesGoToTheNewFile()
    {
        var id = await StartAsync("rotating", "sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.01; done");
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
