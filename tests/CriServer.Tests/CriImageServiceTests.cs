using CriOci.Cri.V1;
using CriOci.CriServer.Tests.Fakes;
using Grpc.Core;

namespace CriOci.CriServer.Tests;

public sealed class CriImageServiceTests : IAsyncLifetime
{
    private static readonly string BusyboxId = "sha256:" + new string('b', 64);
    private CriTestServer server = null!;

    public async Task InitializeAsync() => server = await CriTestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task PullImage_NoImageSpec_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.ImageClient.PullImageAsync(new PullImageRequest()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("image is required", error.Status.Detail);
    }

    [Fact]
    public async Task PullImage_EmptyImage_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.ImageClient.PullImageAsync(new PullImageRequest { Image = new ImageSpec() }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("image.image is required", error.Status.Detail);
    }

    [Fact]
    public async Task PullImage_WithAuth_PassesCredentialsAndReturnsImageId()
    {
        var request = new PullImageRequest
        {
            Image = new ImageSpec { Image = "registry.local:5000/busybox:1" },
            Auth = new AuthConfig { Username = "alice", Password = "secret" },
        };

        var response = await server.ImageClient.PullImageAsync(request);

        Assert.Equal("sha256:" + new string('a', 64), response.ImageRef);
        Assert.Equal(["Pull registry.local:5000/busybox:1"], server.Images.Calls);
        var credentials = server.Images.LastCredentials!;
        Assert.Equal(("alice", "secret"), (credentials.Username, credentials.Password));
        Assert.Null(credentials.Auth);
        Assert.Null(credentials.IdentityToken);
    }

    public static TheoryData<Exception, StatusCode> PullErrors => new()
    {
        // The image store's messages for a refused login and an unreachable registry; kubelet
        // shows the detail in the pod's ErrImagePull event, so it must reach the client whole.
        {
            new Core.UnavailableException("registry 127.0.0.1:5000 refused access to manifest 127.0.0.1:5000/busybox:latest (401 Unauthorized): UNAUTHORIZED: authentication required; check the pull credentials"),
            StatusCode.Unavailable
        },
        { new Core.NotFoundException("manifest 127.0.0.1:5000/busybox:absent not found in registry 127.0.0.1:5000: MANIFEST_UNKNOWN: manifest unknown"), StatusCode.NotFound },
        { new Core.FailedPreconditionException("blob sha256:aa failed verification: the content's digest is sha256:bb"), StatusCode.FailedPrecondition },
        { new Core.ResourceExhaustedException("pulling 127.0.0.1:5000/busybox:latest failed: the image filesystem is full"), StatusCode.ResourceExhausted },
    };

    [Theory]
    [MemberData(nameof(PullErrors))]
    public async Task PullImage_StoreFails_StatusCarriesRegistryMessage(Exception failure, StatusCode expected)
    {
        server.Images.PullError = failure;

        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.ImageClient.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = "127.0.0.1:5000/busybox" } }).ResponseAsync);

        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(failure.Message, error.Status.Detail);
    }

    [Fact]
    public async Task PullImage_NoAuth_PassesNoCredentials()
    {
        await server.ImageClient.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = "busybox" } });

        Assert.Null(server.Images.LastCredentials);
    }

    [Fact]
    public async Task ImageStatus_MissingImage_EmptyResponse()
    {
        var response = await server.ImageClient.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = "nope:1" }, Verbose = true });

        Assert.Null(response.Image);
        Assert.Empty(response.Info);
    }

    [Fact]
    public async Task ImageStatus_KnownImage_MapsRecord()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "docker.io/library/busybox:latest", user: "1000:1000"));

        var response = await server.ImageClient.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = "docker.io/library/busybox:latest" } });

        Assert.Equal(BusyboxId, response.Image.Id);
        Assert.Equal(["docker.io/library/busybox:latest"], response.Image.RepoTags);
        Assert.Single(response.Image.RepoDigests);
        Assert.Equal(1234UL, response.Image.Size);
        Assert.Equal(1000, response.Image.Uid.Value);
        Assert.Equal("", response.Image.Username);
        Assert.Equal(BusyboxId, response.Image.Spec.Image);
        Assert.False(response.Image.Pinned);
        Assert.Empty(response.Info);
    }

    [Fact]
    public async Task ImageStatus_Verbose_InfoHoldsImageConfigJson()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));

        var response = await server.ImageClient.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = BusyboxId }, Verbose = true });

        Assert.Contains("\"entrypoint\":[\"/bin/sh\"]", response.Info["info"]);
        Assert.Contains("\"stopSignal\":\"SIGQUIT\"", response.Info["info"]);
    }

    [Fact]
    public async Task ListImages_NoFilter_ReturnsAll()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));
        server.Images.Images.Add(FakeImageService.Record("sha256:" + new string('c', 64), "alpine:3"));

        var response = await server.ImageClient.ListImagesAsync(new ListImagesRequest());

        Assert.Equal(2, response.Images.Count);
    }

    [Fact]
    public async Task ListImages_FilterByReference_ReturnsOnlyMatch()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));
        server.Images.Images.Add(FakeImageService.Record("sha256:" + new string('c', 64), "alpine:3"));

        var response = await server.ImageClient.ListImagesAsync(new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = "busybox:latest" } } });

        Assert.Equal(BusyboxId, Assert.Single(response.Images).Id);
    }

    [Fact]
    public async Task RemoveImage_InUse_FailedPreconditionAndKept()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));
        server.Sandboxes.ImagesInUse.Add(BusyboxId);

        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.ImageClient.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = "busybox:latest" } }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("in use", error.Status.Detail);
        Assert.Single(server.Images.Images);
        Assert.DoesNotContain(server.Images.Calls, call => call.StartsWith("Remove", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RemoveImage_Unused_RemovesById()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));

        await server.ImageClient.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = "busybox:latest" } });

        Assert.Contains($"Remove {BusyboxId}", server.Images.Calls);
        Assert.Empty(server.Images.Images);
    }

    [Fact]
    public async Task RemoveImage_UnknownImage_SucceedsWithoutRemoving()
    {
        await server.ImageClient.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = "gone:1" } });

        Assert.Equal(["Find gone:1"], server.Images.Calls);
    }

    [Fact]
    public async Task ImageFsInfo_Always_ReportsStoreUsage()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

        var response = await server.ImageClient.ImageFsInfoAsync(new ImageFsInfoRequest());

        var usage = Assert.Single(response.ImageFilesystems);
        Assert.Equal("/var/lib/crioci/images", usage.FsId.Mountpoint);
        Assert.Equal(4096UL, usage.UsedBytes.Value);
        Assert.Equal(7UL, usage.InodesUsed.Value);
        Assert.InRange(usage.Timestamp, before, before + 60_000_000_000L);
    }

    [Fact]
    public async Task ImageFsInfo_ContainerWritableLayers_ReportedAsContainerFilesystem()
    {
        // Two containers' upper dirs as the sandbox manager lays them out: <root>/containers/<id>/upper.
        var containers = server.DaemonOptions.Sandbox.ContainersDirectory;
        Directory.CreateDirectory(Path.Combine(containers, "c1", "upper", "tmp"));
        Directory.CreateDirectory(Path.Combine(containers, "c2", "upper"));
        await File.WriteAllBytesAsync(Path.Combine(containers, "c1", "upper", "tmp", "written"), new byte[3000]);
        await File.WriteAllBytesAsync(Path.Combine(containers, "c2", "upper", "log"), new byte[500]);

        var response = await server.ImageClient.ImageFsInfoAsync(new ImageFsInfoRequest());

        var usage = Assert.Single(response.ContainerFilesystems);
        Assert.Equal(containers, usage.FsId.Mountpoint);
        Assert.Equal(3500UL, usage.UsedBytes.Value);
        // containers, c1, c1/upper, c1/upper/tmp, written, c2, c2/upper, log
        Assert.Equal(8UL, usage.InodesUsed.Value);
        Assert.True(usage.Timestamp > 0);
    }

    [Fact]
    public async Task ListImagesAndImageStatus_PinnedImage_ReportedPinned()
    {
        server.Images.Images.Add(FakeImageService.Record(BusyboxId, "busybox:latest"));
        server.Images.Images.Add(FakeImageService.Record("sha256:" + new string('c', 64), "alpine:3"));
        server.Images.PinnedIds.Add(BusyboxId);

        var list = await server.ImageClient.ListImagesAsync(new ListImagesRequest());
        var status = await server.ImageClient.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = BusyboxId } });

        Assert.Equal([(BusyboxId, true), ("sha256:" + new string('c', 64), false)], list.Images.Select(i => (i.Id, i.Pinned)));
        Assert.True(status.Image.Pinned);
    }

    [Fact]
    public async Task StreamImages_NotBuilt_Unimplemented()
    {
        using var call = server.ImageClient.StreamImages(new StreamImagesRequest());

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }
}
