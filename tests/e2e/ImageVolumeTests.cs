using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// Image volumes (CRI Mount.image, Kubernetes' image volume source): another image's files
/// mounted read-only and noexec into a container, checked from inside it.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ImageVolumeTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonWithPod _pod = null!;

    public async Task InitializeAsync()
    {
        _pod = await DaemonWithPod.StartAsync(registry, "volumes");
        await _pod.Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLayered.Reference } });
    }

    public async Task DisposeAsync() => await _pod.DisposeAsync();

    private RuntimeService.RuntimeServiceClient Runtime => _pod.Runtime;

    private static Mount ImageMount(string containerPath, string image, string subPath = "") =>
        new() { ContainerPath = containerPath, Image = new ImageSpec { Image = image }, ImageSubPath = subPath };

    private async Task<string> ExecAsync(string id, string script)
    {
        var result = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "sh", "-c", script }, Timeout = 10 });
        return result.Stdout.ToStringUtf8() + result.Stderr.ToStringUtf8();
    }

    [Fact]
    public async Task ImageVolume_LayeredImage_IsItsMergedFilesReadOnlyAndNoexec()
    {
        var id = await _pod.StartContainerAsync("layered", c => c.Mounts.Add(ImageMount("/vol", registry.BusyboxLayered.Reference)));

        // The second layer's file is there and its whiteout applied: the layers are merged.
        Assert.Equal(TestImages.LayeredAddedFileContent, await ExecAsync(id, $"cat /vol{TestImages.LayeredAddedFilePath}"));
        Assert.Equal("absent\n", await ExecAsync(id, $"test -e /vol{TestImages.LayeredRemovedPath} && echo present || echo absent"));
        Assert.Contains("Read-only file system", await ExecAsync(id, "touch /vol/new 2>&1"));
        Assert.Contains("Permission denied", await ExecAsync(id, "/vol/bin/busybox true 2>&1; true"));
        var options = await ExecAsync(id, "grep ' /vol ' /proc/self/mountinfo");
        Assert.Contains("ro,", options);
        Assert.Contains("noexec", options);
    }

    [Fact]
    public async Task ImageVolume_SubPath_MountsThatDirectoryOnly()
    {
        var id = await _pod.StartContainerAsync("subpath", c => c.Mounts.Add(ImageMount("/conf", registry.BusyboxLatest.Reference, "etc")));

        Assert.StartsWith("root:x:0:0:", await ExecAsync(id, "cat /conf/passwd"));
        Assert.Equal("absent\n", await ExecAsync(id, "test -e /conf/bin && echo present || echo absent"));
    }

    [Theory]
    [InlineData("no/such/dir", "does not exist")]
    [InlineData("../..", "without \"..\"")]
    [InlineData("/etc", "without \"..\"")]
    public async Task ImageVolume_BadSubPath_IsInvalidArgumentAndLeavesNothing(string subPath, string message)
    {
        var config = CriRequests.Container($"bad-{Math.Abs(subPath.GetHashCode())}", registry.BusyboxLatest.Reference, ["sleep", "3600"]);
        config.Mounts.Add(ImageMount("/vol", registry.BusyboxLatest.Reference, subPath));

        var mountedBefore = await ImageVolumeMountsAsync();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = _pod.PodId, Config = config, SandboxConfig = _pod.PodConfig }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail);
        // The image was mounted before its sub path was refused: the rollback unmounted it.
        Assert.Equal(mountedBefore, await ImageVolumeMountsAsync());
    }

    [Fact]
    public async Task ImageVolume_ImageNotPulled_IsNotFoundNamingTheMount()
    {
        var config = CriRequests.Container("unpulled", registry.BusyboxLatest.Reference, ["sleep", "3600"]);
        config.Mounts.Add(ImageMount("/vol", $"{registry.BusyboxLatest.Registry}/busybox:never-pushed"));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = _pod.PodId, Config = config, SandboxConfig = _pod.PodConfig }));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("config.mounts[0].image", error.Status.Detail);
    }

    [Fact]
    public async Task ImageVolume_InUse_ImageCannotBeRemovedAndUnmountsWithTheContainer()
    {
        // An image no other test here mounts, so removing it at the end depends on this container only.
        var volumeImage = new ImageSpec { Image = registry.BusyboxV2s2.Reference };
        await _pod.Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = volumeImage });
        var id = await _pod.StartContainerAsync("in-use", c => c.Mounts.Add(ImageMount("/vol", volumeImage.Image)));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await _pod.Daemon.Client.Images.RemoveImageAsync(new RemoveImageRequest { Image = volumeImage }));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains($"{id}/image-volumes", await File.ReadAllTextAsync("/proc/self/mountinfo"));

        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });

        Assert.DoesNotContain($"{id}/image-volumes", await File.ReadAllTextAsync("/proc/self/mountinfo"));
        await _pod.Daemon.Client.Images.RemoveImageAsync(new RemoveImageRequest { Image = volumeImage });
    }

    private static async Task<int> ImageVolumeMountsAsync() =>
        (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Count(line => line.Contains("/image-volumes/", StringComparison.Ordinal));
}
