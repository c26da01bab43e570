using System.Formats.Tar;
using CriOci.Core;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.TestSupport;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// Issue 5 "Bad input": an image this node cannot store fails its pull with an error naming
/// the image and the cause, and leaves the store as it was. Pulls come from Debian's
/// docker-registry on loopback; the full-disk cases put the store on an 8 MiB tmpfs.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class ImageServiceStoreFailureTests : IAsyncLifetime
{
    private readonly TempDirectory work = new();
    private RegistryServer registry = null!;

    public async Task InitializeAsync() => registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync()
    {
        await registry.DisposeAsync();
        await CommandRunner.RunUncheckedAsync("umount", ["-l", work.Combine("store")]);
        work.Dispose();
    }

    public static TheoryData<string, string> UnstorableLayers => new()
    {
        { "long-name", "longer than this filesystem allows" },
        { "long-dir-name", "longer than this filesystem allows" },
        { "xattr-name", "extended attribute" },
        { "xattr-value", "extended attribute" },
    };

    private static LayerBuilder UnstorableLayer(string tag) => tag switch
    {
        // NAME_MAX is 255: open(2), mkdir(2) and statx(2) answer ENAMETOOLONG.
        "long-name" => new LayerBuilder().File(new string('n', 300), "x"),
        "long-dir-name" => new LayerBuilder().Directory(new string('d', 256) + "/"),
        // XATTR_NAME_MAX is 255 (ERANGE), XATTR_SIZE_MAX 64 KiB (E2BIG): the VFS refuses both on any filesystem.
        "xattr-name" => new LayerBuilder().File("f", "x", paxAttributes: [new("SCHILY.xattr.user." + new string('a', 300), "v")]),
        _ => new LayerBuilder().File("f", "x", paxAttributes: [new("SCHILY.xattr.user.big", new string('v', 65537))]),
    };

    [Theory]
    [MemberData(nameof(UnstorableLayers))]
    public async Task PullAsync_LayerThisFilesystemCannotHold_InvalidArgumentNamingImageAndNothingKept(string tag, string cause)
    {
        // Arrange
        var image = TestImage.Create("amd64", TestImage.Layer(new LayerBuilder().File("ok", "fine")), TestImage.Layer(UnstorableLayer(tag)));
        await PushAsync(tag, image);
        var reference = $"{registry.Host}/unstorable:{tag}";
        var root = work.Combine("root");
        var service = ImageServiceFactory.Create(new ImageStoreOptions(root, []) { MaxConcurrentLayers = 1 });

        // Act
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => service.PullAsync(reference, null, CancellationToken.None));

        // Assert
        Assert.Contains(reference, error.Message, StringComparison.Ordinal);
        Assert.Contains(image.Layers[1].Digest, error.Message, StringComparison.Ordinal);
        Assert.Contains(cause, error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root, "snapshots"), ".tmp-*"));
    }

    /// <summary>
    /// 12 MiB of random data fills the 8 MiB store while the blob downloads; 5 MiB fits as a
    /// blob and fills it while the layer unpacks. Either way: ResourceExhausted naming the
    /// image, no image listed, no half-written blob or layer, and once the filesystem is
    /// larger the same pull succeeds.
    /// </summary>
    [Theory]
    [InlineData("download", 12)]
    [InlineData("unpack", 5)]
    public async Task PullAsync_StoreFilesystemFull_ResourceExhaustedAndSamePullSucceedsAfterSpaceIsFreed(string tag, int megabytes)
    {
        // Arrange
        var store = work.Combine("store");
        Directory.CreateDirectory(store);
        await CommandRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", store]);
        var image = TestImage.Create("amd64", TestImage.Layer(RandomFileLayer(megabytes)));
        await PushAsync(tag, image);
        var reference = $"{registry.Host}/big:{tag}";
        var root = Path.Combine(store, "images");
        var service = ImageServiceFactory.Create(new ImageStoreOptions(root, []));

        // Act
        var error = await Assert.ThrowsAsync<ResourceExhaustedException>(() => service.PullAsync(reference, null, CancellationToken.None));

        // Assert: the failure, and a store that holds nothing half done
        Assert.Contains(reference, error.Message, StringComparison.Ordinal);
        Assert.Contains("full", error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
        Assert.Null(service.Find(reference));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(root, "content", "ingest")));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(root, "snapshots")));

        // Act: more space, the same pull
        await CommandRunner.RunAsync("mount", ["-o", "remount,size=64m", store]);
        var pulled = await service.PullAsync(reference, null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        var layer = Assert.Single(service.GetLayerDirectories(pulled));
        Assert.Equal(megabytes * 1024L * 1024, new FileInfo(Path.Combine(layer, "random.bin")).Length);
    }

    private static LayerBuilder RandomFileLayer(int megabytes)
    {
        var data = new byte[megabytes * 1024 * 1024];
        new Random(megabytes).NextBytes(data);
        return new LayerBuilder().Add(new PaxTarEntry(TarEntryType.RegularFile, "random.bin")
        {
            Mode = (UnixFileMode)0b110_100_100,
            ModificationTime = LayerBuilder.DefaultTime,
            DataStream = new MemoryStream(data),
        });
    }

    private async Task PushAsync(string tag, TestImage image)
    {
        var repository = tag is "download" or "unpack" ? "big" : "unstorable";
        using var http = new HttpClient { BaseAddress = new Uri($"http://{registry.Host}/v2/{repository}/"), Timeout = TimeSpan.FromMinutes(2) };
        foreach (var layer in image.Layers)
        {
            await RegistryApi.UploadBlobAsync(http, layer.Blob, CancellationToken.None);
        }
        await RegistryApi.UploadBlobAsync(http, image.Config, CancellationToken.None);
        await RegistryApi.PutManifestAsync(http, tag, image.ManifestMediaType, image.Manifest, CancellationToken.None);
    }
}
