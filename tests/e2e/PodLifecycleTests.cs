using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// The walking skeleton, end to end: a real daemon pulls from a real registry, runs a pod and
/// containers in real namespaces, and leaves nothing behind.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed partial class PodLifecycleTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await CleanUpAsync(_daemon.BaseDirectory);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;
    private ImageService.ImageServiceClient Images => _daemon.Client.Images;
    private string LogDirectory => Path.Combine(_daemon.BaseDirectory, "pod-logs");

    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z) (stdout|stderr) (F|P) (.*)$")]
    private static partial Regex CriLogLine();

    [Fact]
    public async Task Pod_FullScenario_PullRunLogExecStopRemoveLeavesNothing()
    {
        var pull = await Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        Assert.StartsWith("sha256:", pull.ImageRef);

        var podConfig = CriRequests.Pod("web", LogDirectory);
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var podStatus = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Equal(PodSandboxState.SandboxReady, podStatus.Status.State);

        var containerConfig = CriRequests.Container("app", registry.BusyboxLatest.Reference,
            "sh", "-c", "echo hello world; echo to stderr >&2; hostname; exec sleep 3600");
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId, Config = containerConfig, SandboxConfig = podConfig,
        });
        Assert.Equal(ContainerState.ContainerCreated, (await Status(created.ContainerId)).Status.State);
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

        var logPath = Path.Combine(LogDirectory, "app", "0.log");
        var records = await WaitForLogRecords(logPath, 3);
        Assert.All(records, r => Assert.Equal("F", r.Tag));
        Assert.Contains(("stdout", "hello world"), records.Select(r => (r.Stream, r.Message)));
        Assert.Contains(("stderr", "to stderr"), records.Select(r => (r.Stream, r.Message)));
        Assert.Contains(("stdout", "web"), records.Select(r => (r.Stream, r.Message)));

        var exec = await Runtime.ExecSyncAsync(new ExecSyncRequest
        {
            ContainerId = created.ContainerId,
            Cmd = { "sh", "-c", "echo out; printf 'err\\n' >&2; id -u; exit 7" },
            Timeout = 10,
        });
        Assert.Equal(7, exec.ExitCode);
        Assert.Equal("out\n0\n", exec.Stdout.ToStringUtf8());
        Assert.Equal("err\n", exec.Stderr.ToStringUtf8());

        var status = await Status(created.ContainerId, verbose: true);
        Assert.Equal(ContainerState.ContainerRunning, status.Status.State);
        Assert.True(status.Status.StartedAt >= status.Status.CreatedAt);
        using (var info = JsonDocument.Parse(status.Info["info"]))
        {
            Assert.True(info.RootElement.GetProperty("pid").GetInt32() > 0);
            Assert.Equal(pod.PodSandboxId, info.RootElement.GetProperty("sandboxID").GetString());
            Assert.Equal("sh", info.RootElement.GetProperty("runtimeSpec").GetProperty("process").GetProperty("args")[0].GetString());
        }
        var listed = await Runtime.ListContainersAsync(new ListContainersRequest
        {
            Filter = new ContainerFilter { PodSandboxId = pod.PodSandboxId, State = new ContainerStateValue { State = ContainerState.ContainerRunning } },
        });
        Assert.Equal(created.ContainerId, Assert.Single(listed.Containers).Id);

        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = created.ContainerId, Timeout = 1 });
        var stopped = await Status(created.ContainerId);
        Assert.Equal(ContainerState.ContainerExited, stopped.Status.State);
        // sleep is PID 1 of its namespace and ignores SIGTERM, so the stop escalated to SIGKILL.
        Assert.Equal(137, stopped.Status.ExitCode);

        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = created.ContainerId });
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });

        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty((await Runtime.ListContainersAsync(new ListContainersRequest())).Containers);
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        Assert.Empty(HostInspection.MountsUnder(_daemon.RootDirectory));
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDirectory, "pods", pod.PodSandboxId)), "namespace pins remain");
    }

    [Fact]
    public async Task Container_ExitsWithCode3_ReportsExitedWithCodeAndTimes()
    {
        await Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxV2s2.Reference } });
        var podConfig = CriRequests.Pod("exiter", LogDirectory);
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("three", registry.BusyboxV2s2.Reference, "sh", "-c", "exit 3"),
            SandboxConfig = podConfig,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

        var status = await WaitForState(created.ContainerId, ContainerState.ContainerExited);
        Assert.Equal(3, status.ExitCode);
        Assert.Equal("Error", status.Reason);
        Assert.True(status.FinishedAt > status.StartedAt, $"finished_at {status.FinishedAt} not after started_at {status.StartedAt}");
        Assert.True(status.StartedAt > 0);

        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    [Fact]
    public async Task LayeredImage_SecondLayerAndWhiteout_AreVisibleInTheContainer()
    {
        await Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLayered.Reference } });
        var podConfig = CriRequests.Pod("layered", LogDirectory);
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("reader", registry.BusyboxLayered.Reference, "sleep", "3600"),
            SandboxConfig = podConfig,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

        var cat = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "cat", TestImages.LayeredAddedFilePath }, Timeout = 10 });
        Assert.Equal(TestImages.LayeredAddedFileContent, cat.Stdout.ToStringUtf8());
        var ls = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "ls", TestImages.LayeredRemovedPath }, Timeout = 10 });
        Assert.NotEqual(0, ls.ExitCode);

        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
    }

    private async Task<ContainerStatusResponse> Status(string id, bool verbose = false) =>
        await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = verbose });

    private async Task<ContainerStatus> WaitForState(string id, ContainerState state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var status = (await Status(id)).Status;
            if (status.State == state)
            {
                return status;
            }
            Assert.True(DateTime.UtcNow < deadline, $"container {id} stayed {status.State}, expected {state}");
            await Task.Delay(50);
        }
    }

    private sealed record LogRecord(string Stream, string Tag, string Message);

    private static async Task<IReadOnlyList<LogRecord>> WaitForLogRecords(string path, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (File.Exists(path))
            {
                var text = await File.ReadAllTextAsync(path, Encoding.UTF8);
                var lines = text.Split('\n');
                Assert.Equal("", lines[^1]); // every record ends with a newline
                var records = lines[..^1].Select(line =>
                {
                    var match = CriLogLine().Match(line);
                    Assert.True(match.Success, $"not a CRI log line: {line}");
                    return new LogRecord(match.Groups[3].Value, match.Groups[4].Value, match.Groups[5].Value);
                }).ToList();
                if (records.Count >= count)
                {
                    return records;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"log {path} did not get {count} records");
            await Task.Delay(50);
        }
    }

    internal static async Task CleanUpAsync(string baseDirectory)
    {
        // Only after the assertions: a test that failed may have left mounts; do not let them
        // pile up on the machine.
        foreach (var mount in HostInspection.MountsUnder(baseDirectory).OrderByDescending(m => m.Length))
        {
            await CommandRunner.RunUncheckedAsync("umount", ["-l", mount]);
        }
        try
        {
            Directory.Delete(baseDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
