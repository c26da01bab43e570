using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>A daemon killed with SIGKILL comes back to the same pods and containers, and the containers never notice.</summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class DaemonRestartTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    [Fact]
    public async Task Daemon_KilledAndRestarted_KeepsRunningContainerAndItsLog()
    {
        var image = registry.BusyboxLatest.Reference;
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var logDirectory = Path.Combine(_daemon.BaseDirectory, "pod-logs");
        var podConfig = CriRequests.Pod("survivor", logDirectory);
        var pod = await _daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await _daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            // Prints a line every 100 ms: the log must keep growing while no daemon runs.
            Config = CriRequests.Container("ticker", image, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"),
            SandboxConfig = podConfig,
        });
        await _daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        var before = await _daemon.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = created.ContainerId });

        await _daemon.KillAsync();
        var logPath = Path.Combine(logDirectory, "ticker", "0.log");
        var linesWhileDown = File.ReadAllLines(logPath).Length;
        await Task.Delay(500);
        Assert.True(File.ReadAllLines(logPath).Length > linesWhileDown, "the container's log stopped while the daemon was down");

        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);

        var pods = await _daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());
        Assert.Equal(pod.PodSandboxId, Assert.Single(pods.Items).Id);
        var after = await _daemon.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = created.ContainerId });
        Assert.Equal(ContainerState.ContainerRunning, after.Status.State);
        Assert.Equal(before.Status.StartedAt, after.Status.StartedAt);
        var exec = await _daemon.Client.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "echo", "still here" }, Timeout = 10 });
        Assert.Equal("still here\n", exec.Stdout.ToStringUtf8());

        await _daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
    }

    [Fact]
    public async Task Daemon_KilledDuringAttachAndLogging_EveryLineIsLoggedAndAttachWorksAgain()
    {
        var image = registry.BusyboxLatest.Reference;
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var logDirectory = Path.Combine(_daemon.BaseDirectory, "attach-logs");
        var podConfig = CriRequests.Pod("attached", logDirectory);
        var pod = await _daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        // A numbered line every millisecond or so, and an echo of whatever arrives on stdin.
        var config = CriRequests.Container("chatty", image, "sh", "-c",
            "(i=0; while true; do echo n$i; i=$((i+1)); sleep 0.001; done) & while read line; do echo \"got $line\"; done");
        config.Stdin = true;
        var created = await _daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = pod.PodSandboxId, Config = config, SandboxConfig = podConfig });
        var id = created.ContainerId;
        await _daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });

        await AttachAndEchoAsync(id, "before");
        var attached = await ConnectAttachAsync(id);
        await attached.SendAsync(0, "during\n");
        await attached.ReadUntilAsync(1, "got during");
        await _daemon.KillAsync();
        await attached.WaitClosedAsync();
        await Task.Delay(300);
        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);
        await AttachAndEchoAsync(id, "after");

        await _daemon.Client.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        var lines = File.ReadAllLines(Path.Combine(logDirectory, "chatty", "0.log")).Select(line => line.Split(' ', 4)[3]).ToList();
        var numbers = lines.Where(line => line.StartsWith('n')).Select(line => int.Parse(line[1..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(numbers.Count > 200, $"only {numbers.Count} numbered lines");
        Assert.Equal(Enumerable.Range(0, numbers.Count), numbers);
        Assert.Equal(["got before", "got during", "got after"], lines.Where(line => line.StartsWith("got ", StringComparison.Ordinal)));
        await _daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
    }

    private async Task<WebSocketTestSession> ConnectAttachAsync(string containerId)
    {
        var url = (await _daemon.Client.Runtime.AttachAsync(new AttachRequest { ContainerId = containerId, Stdin = true, Stdout = true, Stderr = true })).Url;
        return await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io");
    }

    private async Task AttachAndEchoAsync(string containerId, string word)
    {
        await using var session = await ConnectAttachAsync(containerId);
        await session.SendAsync(0, word + "\n");
        await session.ReadUntilAsync(1, "got " + word);
    }
}
