using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>Bad requests get the right gRPC status and a message naming the problem; idempotent calls stay idempotent.</summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class BadInputTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;

    [Fact]
    public async Task RunPodSandbox_WithoutMetadata_IsInvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = new PodSandboxConfig() }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("metadata", error.Status.Detail);
    }

    [Fact]
    public async Task CreateContainer_InUnknownPod_IsNotFound()
    {
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = "0123456789abcdef",
            Config = CriRequests.Container("x", registry.BusyboxLatest.Reference, "true"),
            SandboxConfig = CriRequests.Pod("x", "/tmp"),
        }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task StartContainer_Twice_IsFailedPrecondition()
    {
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        var podConfig = CriRequests.Pod("twice", Path.Combine(_daemon.BaseDirectory, "logs"));
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("sleeper", registry.BusyboxLatest.Reference, "sleep", "3600"),
            SandboxConfig = podConfig,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("already", error.Status.Detail);

        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
    }

    [Fact]
    public async Task PullImage_ThatDoesNotExist_IsNotFoundWithRegistryMessage()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await _daemon.Client.Images.PullImageAsync(
            new PullImageRequest { Image = new ImageSpec { Image = $"{registry.Host}/no-such-image:latest" } }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("no-such-image", error.Status.Detail);
    }

    [Fact]
    public async Task StopAndRemove_OfUnknownObjects_Succeed()
    {
        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = "feedface", Timeout = 1 });
        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = "feedface" });
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = "feedface" });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = "feedface" });
        await _daemon.Client.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = "sha256:" + new string('0', 64) } });
    }

    [Fact]
    public async Task SecondDaemon_OnSameRoot_RefusesToStart()
    {
        var logPath = Path.Combine(_daemon.BaseDirectory, "second.log");
        using var second = DaemonProcess.Launch(_daemon.BaseDirectory, logPath);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await second.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, second.ExitCode);
        await Task.Delay(100); // the output handlers may still be flushing
        Assert.Contains("another crioci", await File.ReadAllTextAsync(logPath));
        // The first daemon still answers.
        await Runtime.VersionAsync(new VersionRequest());
    }

    [Fact]
    public async Task ExecSync_PastItsTimeout_IsDeadlineExceeded()
    {
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        var podConfig = CriRequests.Pod("slow", Path.Combine(_daemon.BaseDirectory, "logs"));
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("sleeper", registry.BusyboxLatest.Reference, "sleep", "3600"),
            SandboxConfig = podConfig,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Runtime.ExecSyncAsync(
            new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "sleep", "30" }, Timeout = 1 }));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);

        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
    }
}
