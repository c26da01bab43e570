using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// Pulls from an in-process fake registry through the real service: HTTP, auth, content
/// store, unpack and metadata. Root is needed for the unpack (lchown, mknod).
/// </summary>
[Trait("Category", "Privileged")]
public sealed class ImageServicePullTests : IAsyncLifetime
{
    private const string Repository = "test/app";

    private readonly TempDirectory root = new();
    private FakeRegistry registry = null!;

    public async Task InitializeAsync() => registry = await FakeRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await registry.DisposeAsync();
        root.Dispose();
    }

    private string Name => $"{registry.Host}/{Repository}";

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task PullAsync_IndexBehindBearerChallenge_PicksPlatformAndUnpacks(string architecture)
    {
        // Arrange
        registry.RequireBearerToken = true;
        registry.RedirectBlobs = true;
        var images = new[] { ArchImage("amd64"), ArchImage("arm64") };
        var indexDigest = registry.PushIndex(Repository, "1.0", images);
        var wanted = images.Single(i => i.Architecture == architecture);
        var service = CreateService(new ImagePlatform("linux", architecture));

        // Act
        var image = await service.PullAsync($"{Name}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(wanted.ConfigDigest, image.Id);
        Assert.Equal([$"{Name}:1.0"], image.RepoTags);
        Assert.Equal([$"{Name}@{indexDigest}"], image.RepoDigests);
        Assert.Equal(wanted.ManifestDigest, image.ManifestDigest);
        Assert.Equal(wanted.ExpectedSize, image.Size);
        Assert.Equal(architecture, image.Config.Architecture);
        Assert.Equal("linux", image.Config.Os);
        Assert.Equal("1000:1000", image.Config.User);
        Assert.Equal(["PATH=/bin", $"ARCH={architecture}"], image.Config.Env);
        Assert.Equal("/work", image.Config.WorkingDir);
        Assert.Equal(["53/udp", "8080/tcp"], image.Config.ExposedPorts);
        Assert.Equal(architecture, image.Config.Labels["org.example.arch"]);
        Assert.Equal("SIGTERM", image.Config.StopSignal);
        var layers = service.GetLayerDirectories(image);
        Assert.Equal(2, layers.Count);
        Assert.Equal(architecture, await File.ReadAllTextAsync(Path.Combine(layers[0], "arch")));
        Assert.True(File.Exists(Path.Combine(layers[1], "bin", "base")));
        Assert.Equal(1, registry.RequestCount("/token"));
        Assert.Equal(1, registry.RequestCount($"/storage/{wanted.Layers[0].Digest}"));
        Assert.False(registry.StorageSawAuthorization);
    }

    [Fact]
    public async Task PullAsync_DefaultPlatform_PicksThisMachinesArchitecture()
    {
        // Arrange
        var native = PlatformSelector.Current.Architecture;
        var other = native == "arm64" ? "amd64" : "arm64";
        registry.PushIndex(Repository, "multi", ArchImage(other), ArchImage(native));
        var service = CreateService();

        // Act
        var image = await service.PullAsync($"{Name}:multi", null, CancellationToken.None);

        // Assert
        Assert.Equal(native, image.Config.Architecture);
    }

    [Fact]
    public async Task PullAsync_TamperedLayer_FailsClearlyAndRecordsNothing()
    {
        // Arrange
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "bad");
        registry.AddTamperedBlob(image.Layers[1].Digest, LayerBuilder.Gzip(new LayerBuilder().File("evil", "x").BuildTar()));
        var service = CreateService(new ImagePlatform("linux", "amd64"));

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => service.PullAsync($"{Name}:bad", null, CancellationToken.None));

        // Assert
        Assert.Contains(image.Layers[1].Digest, error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
        Assert.Null(service.Find($"{Name}:bad"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
        Assert.False(File.Exists(root.Combine("content", "blobs", "sha256", image.Layers[1].Digest["sha256:".Length..])));
        Assert.False(Directory.Exists(root.Combine("snapshots", image.Layers[1].DiffId["sha256:".Length..])));
    }

    [Fact]
    public async Task PullAsync_TagPushedAgain_MovesTagToNewImage()
    {
        // Arrange
        var service = CreateService();
        var first = TestImage.Create("amd64", ["first"], TestImage.Layer(new LayerBuilder().File("v", "1")));
        var second = TestImage.Create("amd64", ["second"], TestImage.Layer(new LayerBuilder().File("v", "2")));
        registry.Push(Repository, first, "stable");
        var old = await service.PullAsync($"{Name}:stable", null, CancellationToken.None);
        registry.Push(Repository, second, "stable");

        // Act
        var current = await service.PullAsync($"{Name}:stable", null, CancellationToken.None);

        // Assert
        Assert.NotEqual(old.Id, current.Id);
        Assert.Equal(current.Id, service.Find($"{Name}:stable")?.Id);
        var untagged = service.Find(old.Id);
        Assert.NotNull(untagged);
        Assert.Empty(untagged.RepoTags);
        Assert.Equal([$"{Name}@{first.ManifestDigest}"], untagged.RepoDigests);
        Assert.Equal(2, service.List().Count);
    }

    [Fact]
    public async Task PullAsync_SameImageTwoTags_KeepsOneRecordWithBothTags()
    {
        // Arrange
        var service = CreateService();
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "a");
        registry.Push(Repository, image, "b");

        // Act
        await service.PullAsync($"{Name}:a", null, CancellationToken.None);
        var merged = await service.PullAsync($"{Name}:b", null, CancellationToken.None);

        // Assert
        Assert.Equal([$"{Name}:a", $"{Name}:b"], merged.RepoTags);
        Assert.Single(service.List());
    }

    [Fact]
    public async Task PullAsync_TenConcurrentCalls_FetchEachBlobOnce()
    {
        // Arrange
        registry.RequireBearerToken = true;
        registry.BlobDelay = TimeSpan.FromMilliseconds(200);
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "busy");
        var service = CreateService();

        // Act
        var pulls = Enumerable.Range(0, 10).Select(_ => service.PullAsync($"{Name}:busy", null, CancellationToken.None)).ToList();
        var results = await Task.WhenAll(pulls);

        // Assert
        Assert.All(results, r => Assert.Equal(image.ConfigDigest, r.Id));
        Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/blobs/{image.ConfigDigest}"));
        foreach (var layer in image.Layers)
        {
            Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/blobs/{layer.Digest}"));
        }
        Assert.Equal(1, registry.RequestCount("/token"));
        Assert.Single(service.List());
    }

    [Fact]
    public async Task PullAsync_TwoTagsOfOneImageConcurrently_FetchSharedBlobsOnce()
    {
        // Arrange
        registry.BlobDelay = TimeSpan.FromMilliseconds(200);
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "x");
        registry.Push(Repository, image, "y");
        var service = CreateService();

        // Act
        await Task.WhenAll(
            service.PullAsync($"{Name}:x", null, CancellationToken.None),
            service.PullAsync($"{Name}:y", null, CancellationToken.None));

        // Assert
        Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/blobs/{image.ConfigDigest}"));
        Assert.All(image.Layers, layer => Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/blobs/{layer.Digest}")));
        Assert.Equal([$"{Name}:x", $"{Name}:y"], service.Find($"{Name}:x")!.RepoTags.Order());
    }

    [Fact]
    public async Task PullAsync_DigestReferenceAlreadyStored_ReturnsWithoutRegistry()
    {
        // Arrange
        var image = ArchImage("amd64");
        registry.Push(Repository, image);
        var service = CreateService();
        var pulled = await service.PullAsync($"{Name}@{image.ManifestDigest}", null, CancellationToken.None);
        var requestsBefore = registry.RequestCounts.Values.Sum();

        // Act
        var again = await service.PullAsync($"{Name}@{image.ManifestDigest}", null, CancellationToken.None);

        // Assert
        Assert.Equal(pulled.Id, again.Id);
        Assert.Empty(again.RepoTags);
        Assert.Equal(requestsBefore, registry.RequestCounts.Values.Sum());
    }

    [Fact]
    public async Task PullAsync_ImagesSharingBaseLayer_UnpackItOnceAndRemoveKeepsIt()
    {
        // Arrange
        var service = CreateService();
        var baseLayer = BaseLayer();
        var one = TestImage.Create("amd64", ["one"], baseLayer, TestImage.Layer(new LayerBuilder().File("one", "1")));
        var two = TestImage.Create("amd64", ["two"], baseLayer, TestImage.Layer(new LayerBuilder().File("two", "2")));
        registry.Push(Repository, one, "one");
        registry.Push(Repository, two, "two");

        // Act
        var first = await service.PullAsync($"{Name}:one", null, CancellationToken.None);
        var second = await service.PullAsync($"{Name}:two", null, CancellationToken.None);
        await service.RemoveAsync($"{Name}:one", CancellationToken.None);

        // Assert
        Assert.Equal(first.ChainIds[0], second.ChainIds[0]);
        Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/blobs/{baseLayer.Digest}"));
        var secondLayers = service.GetLayerDirectories(second);
        Assert.All(secondLayers, directory => Assert.True(Directory.Exists(directory)));
        Assert.False(Directory.Exists(root.Combine("snapshots", first.ChainIds[1]["sha256:".Length..])));
        Assert.Equal(2, Directory.EnumerateDirectories(root.Combine("snapshots")).Count());
    }

    [Fact]
    public async Task RemoveAsync_ByTagThenAgainThenUnknown_Succeeds()
    {
        // Arrange
        var service = CreateService();
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "gone");
        var pulled = await service.PullAsync($"{Name}:gone", null, CancellationToken.None);
        var layers = service.GetLayerDirectories(pulled);

        // Act
        await service.RemoveAsync($"{Name}:gone", CancellationToken.None);
        await service.RemoveAsync($"{Name}:gone", CancellationToken.None);
        await service.RemoveAsync(pulled.Id, CancellationToken.None);
        await service.RemoveAsync("never/pulled:at-all", CancellationToken.None);

        // Assert
        Assert.Empty(service.List());
        Assert.Null(service.Find(pulled.Id));
        Assert.All(layers, directory => Assert.False(Directory.Exists(directory)));
        Assert.Empty(Directory.EnumerateFiles(root.Combine("content", "blobs"), "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(root.Combine("images")));
    }

    [Fact]
    public async Task Find_IdDigestAndPrefixForms_AllResolve()
    {
        // Arrange
        var service = CreateService();
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "find");
        var pulled = await service.PullAsync($"{Name}:find", null, CancellationToken.None);
        var hex = pulled.Id["sha256:".Length..];

        // Act + Assert
        Assert.Equal(pulled.Id, service.Find(pulled.Id)?.Id);
        Assert.Equal(pulled.Id, service.Find($"{Name}:find")?.Id);
        Assert.Equal(pulled.Id, service.Find($"{Name}@{image.ManifestDigest}")?.Id);
        Assert.Equal(pulled.Id, service.Find(hex)?.Id);
        Assert.Equal(pulled.Id, service.Find(hex[..12])?.Id);
        Assert.Equal(pulled.Id, service.Find("sha256:" + hex[..12])?.Id);
        Assert.Null(service.Find(hex[..11]));
        Assert.Null(service.Find($"{Name}:other"));
        Assert.Null(service.Find(""));
    }

    [Fact]
    public async Task Constructor_NewInstanceOverSameRoot_SeesPulledImages()
    {
        // Arrange
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "persist");
        var pulled = await CreateService().PullAsync($"{Name}:persist", null, CancellationToken.None);

        // Act
        var restarted = CreateService();

        // Assert
        var found = restarted.Find($"{Name}:persist");
        Assert.NotNull(found);
        Assert.Equal(pulled.Id, found.Id);
        Assert.Equal(pulled.RepoTags, found.RepoTags);
        Assert.Equal(pulled.RepoDigests, found.RepoDigests);
        Assert.Equal(pulled.ChainIds, found.ChainIds);
        Assert.Equal(pulled.Size, found.Size);
        Assert.Equal(pulled.PulledAt, found.PulledAt);
        Assert.Equal(pulled.Config.Cmd, found.Config.Cmd);
        Assert.Equal(pulled.Config.Labels, found.Config.Labels);
        Assert.All(restarted.GetLayerDirectories(found), directory => Assert.True(Directory.Exists(directory)));
    }

    [Fact]
    public async Task Constructor_LeftoversOfInterruptedPull_AreCollected()
    {
        // Arrange
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "ok");
        var service = CreateService();
        await service.PullAsync($"{Name}:ok", null, CancellationToken.None);
        var orphanBlob = root.Combine("content", "blobs", "sha256", new string('a', 64));
        await File.WriteAllTextAsync(orphanBlob, "orphan");
        Directory.CreateDirectory(root.Combine("snapshots", new string('b', 64), "fs"));
        Directory.CreateDirectory(root.Combine("snapshots", ".tmp-crashed", "fs"));

        // Act
        var restarted = CreateService();

        // Assert
        Assert.False(File.Exists(orphanBlob));
        Assert.False(Directory.Exists(root.Combine("snapshots", new string('b', 64))));
        Assert.False(Directory.Exists(root.Combine("snapshots", ".tmp-crashed")));
        Assert.Single(restarted.List());
    }

    [Fact]
    public async Task PullAsync_UnknownTag_ThrowsNotFoundWithRegistryMessage()
    {
        // Arrange
        var service = CreateService();

        // Act
        var error = await Assert.ThrowsAsync<NotFoundException>(() => service.PullAsync($"{Name}:missing", null, CancellationToken.None));

        // Assert
        Assert.Contains("MANIFEST_UNKNOWN", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{Name}:missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_Schema1Manifest_IsRefused()
    {
        // Arrange
        registry.AddManifest(Repository, "old", "application/vnd.docker.distribution.manifest.v1+prettyjws",
            Encoding.UTF8.GetBytes("{\"schemaVersion\":1,\"name\":\"test/app\",\"tag\":\"old\",\"fsLayers\":[]}"));
        var service = CreateService();

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() => service.PullAsync($"{Name}:old", null, CancellationToken.None));

        // Assert
        Assert.Contains("schema 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_TokenEndpointWantsCredentials_UsesAuthField()
    {
        // Arrange
        registry.RequireBearerToken = true;
        registry.TokenCredentials = ("puller", "s3cret");
        registry.Push(Repository, ArchImage("amd64"), "private");
        var service = CreateService();
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("puller:s3cret"));

        // Act
        var anonymous = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{Name}:private", null, CancellationToken.None));
        var image = await service.PullAsync($"{Name}:private", new RegistryCredentials(null, null, auth, null, null), CancellationToken.None);

        // Assert
        Assert.Contains("401", anonymous.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", anonymous.Message, StringComparison.Ordinal);
        Assert.Equal([$"{Name}:private"], image.RepoTags);
    }

    [Fact]
    public async Task PullAsync_CancelledToken_ThrowsAndRecordsNothing()
    {
        // Arrange
        registry.BlobDelay = TimeSpan.FromSeconds(30);
        registry.Push(Repository, ArchImage("amd64"), "slow");
        var service = CreateService();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        // Act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => service.PullAsync($"{Name}:slow", null, cancellation.Token));

        // Assert
        Assert.Empty(service.List());
    }

    [Fact]
    public async Task GetFilesystemUsage_AfterPull_CountsBytesAndInodesUnderRoot()
    {
        // Arrange
        var service = CreateService();
        var image = ArchImage("amd64");
        registry.Push(Repository, image, "usage");
        var empty = service.GetFilesystemUsage();
        await service.PullAsync($"{Name}:usage", null, CancellationToken.None);

        // Act
        var usage = service.GetFilesystemUsage();

        // Assert
        Assert.Equal(root.Path, usage.Mountpoint);
        Assert.True(usage.UsedBytes >= image.ExpectedSize, $"{usage.UsedBytes} < {image.ExpectedSize}");
        Assert.True(usage.InodesUsed > empty.InodesUsed + 5);
    }

    private IImageService CreateService(ImagePlatform? platform = null) =>
        new ImageService(
            new ImageStoreOptions(root.Path, []) { Platform = platform },
            RegistryClient.Create(new ImageStoreOptions(root.Path, []), NullLogger.Instance),
            NullLogger.Instance,
            TimeProvider.System);

    private static TestLayer BaseLayer() =>
        TestImage.Layer(new LayerBuilder().Directory("bin/").File("bin/base", "base", (UnixFileMode)Convert.ToInt32("755", 8)).File("etc/.wh.gone", ""));

    private static TestImage ArchImage(string architecture) =>
        TestImage.Create(architecture, ["run"], BaseLayer(), TestImage.Layer(new LayerBuilder().File("arch", architecture)));
}
