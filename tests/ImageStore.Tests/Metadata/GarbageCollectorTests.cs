using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore.Tests.Metadata;

/// <summary>
/// Garbage collection through the service: it deletes exactly the blobs and layers no image
/// references, and never what a pull running at the same time is using.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class GarbageCollectorTests : IAsyncLifetime
{
    private const string Repository = "test/gc";

    private readonly TempDirectory root = new();
    private FakeRegistry registry = null!;

    public async Task InitializeAsync() => registry = await FakeRegistry.StartAsync();

    public async Task DisposeAsync()
    {
        await registry.DisposeAsync();
        root.Dispose();
    }

    private string Name => $"{registry.Host}/{Repository}";

    [Fact]
    public async Task CollectGarbageAsync_PlantedAndOrphanedContent_RemovesExactlyTheUnreferenced()
    {
        // Arrange: two images sharing a base layer, a third removed by hand from the records
        // (as a crash between record removal and collection leaves it), and stray files.
        var service = CreateService();
        var shared = TestImage.Layer(new LayerBuilder().File("base", "shared base"));
        var first = TestImage.Create("amd64", ["one"], shared, TestImage.Layer(new LayerBuilder().File("top", "first")));
        var second = TestImage.Create("amd64", ["two"], shared, TestImage.Layer(new LayerBuilder().File("top", "second")));
        var orphan = TestImage.Create("amd64", ["three"], TestImage.Layer(new LayerBuilder().File("only", "orphan")));
        registry.Push(Repository, first, "first");
        registry.Push(Repository, second, "second");
        registry.Push(Repository, orphan, "orphan");
        var firstRecord = await service.PullAsync($"{Name}:first", null, CancellationToken.None);
        var secondRecord = await service.PullAsync($"{Name}:second", null, CancellationToken.None);
        var orphanRecord = await service.PullAsync($"{Name}:orphan", null, CancellationToken.None);
        var kept = Files().Where(f => !f.StartsWith("images/", StringComparison.Ordinal)).ToHashSet();
        var orphanFiles = new HashSet<string>
        {
            Blob(orphan.ConfigDigest), Blob(orphan.ManifestDigest), Blob(orphan.Layers[0].Digest), $"snapshots/{Hex(orphanRecord.ChainIds[0])}",
        };
        foreach (var file in Files().Where(f => f.StartsWith($"snapshots/{Hex(orphanRecord.ChainIds[0])}/", StringComparison.Ordinal)))
        {
            orphanFiles.Add(file);
        }
        kept.ExceptWith(orphanFiles);
        var orphanBlobs = new[] { orphan.ConfigDigest, orphan.ManifestDigest, orphan.Layers[0].Digest }
            .ToDictionary(digest => digest, digest => File.ReadAllBytes(root.Combine(Blob(digest))));
        File.Delete(root.Combine("images", Hex(orphanRecord.Id) + ".json"));
        // A new service over the root loads the remaining records and collects at start-up.
        service = CreateService();
        Assert.All(orphanFiles, file => Assert.False(Path.Exists(root.Combine(file)), file));
        // Leftovers appear again while it runs (what a failed pull leaves), plus a stray blob and layer.
        foreach (var (digest, bytes) in orphanBlobs)
        {
            await File.WriteAllBytesAsync(root.Combine(Blob(digest)), bytes);
        }
        Directory.CreateDirectory(root.Combine("snapshots", Hex(orphanRecord.ChainIds[0]), "fs"));
        var strayBlob = "stray blob"u8.ToArray();
        await File.WriteAllBytesAsync(root.Combine(Blob(LayerBuilder.Sha256(strayBlob))), strayBlob);
        var strayLayer = root.Combine("snapshots", new string('e', 64), "fs", "etc");
        Directory.CreateDirectory(strayLayer);
        await File.WriteAllTextAsync(Path.Combine(strayLayer, "passwd"), "x");

        // Act
        var result = await service.CollectGarbageAsync(CancellationToken.None);
        var again = await service.CollectGarbageAsync(CancellationToken.None);

        // Assert
        var remaining = Files().Where(f => !f.StartsWith("images/", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(kept.Order(StringComparer.Ordinal), remaining.Order(StringComparer.Ordinal));
        Assert.Equal(4, result.BlobsDeleted);
        Assert.Equal(orphan.Config.Length + orphan.Manifest.Length + orphan.Layers[0].Blob.Length + strayBlob.Length, result.BlobBytesFreed);
        Assert.Equal(2, result.LayersDeleted);
        Assert.Equal(new GarbageCollectionResult(0, 0, 0), again);
        foreach (var record in new[] { firstRecord, secondRecord })
        {
            Assert.All(service.GetLayerDirectories(record), directory => Assert.True(Directory.Exists(directory)));
        }
    }

    [Fact]
    public async Task CollectGarbageAsync_WhilePullsRun_NeverTakesTheirContent()
    {
        // Arrange: slow blobs keep the pulls between fetching and recording for a while.
        var service = CreateService();
        registry.BlobDelay = TimeSpan.FromMilliseconds(300);
        var images = Enumerable.Range(0, 3)
            .Select(i => TestImage.Create("amd64", [$"{i}"],
                TestImage.Layer(new LayerBuilder().File("base", "common")),
                TestImage.Layer(new LayerBuilder().File("n", $"{i}")),
                TestImage.Layer(new LayerBuilder().File("m", $"{i}-top"))))
            .ToList();
        for (var i = 0; i < images.Count; i++)
        {
            registry.Push(Repository, images[i], $"v{i}");
        }
        var pulls = images.Select((_, i) => service.PullAsync($"{Name}:v{i}", null, CancellationToken.None)).ToList();
        var collections = 0;

        // Act
        while (!pulls.All(p => p.IsCompleted))
        {
            await service.CollectGarbageAsync(CancellationToken.None);
            collections++;
            await Task.Delay(10);
        }
        var records = await Task.WhenAll(pulls);
        var afterwards = await service.CollectGarbageAsync(CancellationToken.None);

        // Assert
        Assert.True(collections > 5, $"only {collections} collections overlapped the pulls");
        Assert.Equal(new GarbageCollectionResult(0, 0, 0), afterwards);
        foreach (var (record, image) in records.Zip(images))
        {
            Assert.Equal(image.ConfigDigest, record.Id);
            Assert.All(service.GetLayerDirectories(record), directory => Assert.True(Directory.Exists(directory)));
            Assert.True(File.Exists(root.Combine("content", "blobs", "sha256", Hex(image.ManifestDigest))));
            Assert.All(image.Layers, layer => Assert.True(File.Exists(root.Combine("content", "blobs", "sha256", Hex(layer.Digest)))));
        }
    }

    private IImageService CreateService()
    {
        var options = new ImageStoreOptions(root.Path, []) { Platform = new ImagePlatform("linux", "amd64") };
        return new ImageService(options, RegistryClient.Create(options, NullLogger.Instance), NullLogger.Instance, TimeProvider.System);
    }

    private List<string> Files() =>
        [.. Directory.EnumerateFileSystemEntries(root.Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(path => Path.GetRelativePath(root.Path, path))];

    private static string Blob(string digest) => $"content/blobs/sha256/{Hex(digest)}";

    private static string Hex(string digest) => digest[(digest.IndexOf(':', StringComparison.Ordinal) + 1)..];
}
