using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Content;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Tests.Fixtures;

namespace CriOci.ImageStore.Tests.Content;

public sealed class LocalContentStoreTests : IDisposable
{
    private readonly TempDirectory root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task IngestAsync_MatchingDigest_PublishesBlob()
    {
        // Arrange
        var store = new LocalContentStore(root.Path);
        var data = Encoding.UTF8.GetBytes("hello blob");
        var digest = Digest.ComputeSha256(data);

        // Act
        var size = await store.IngestAsync(new MemoryStream(data), digest, data.Length, CancellationToken.None);

        // Assert
        Assert.Equal(data.Length, size);
        Assert.True(store.Exists(digest));
        Assert.Equal(root.Combine("content", "blobs", "sha256", digest.Hex), store.PathOf(digest));
        Assert.Equal(data, store.ReadAllBytes(digest));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
    }

    [Fact]
    public async Task IngestAsync_DigestMismatch_ThrowsAndLeavesNothing()
    {
        // Arrange
        var store = new LocalContentStore(root.Path);
        var claimed = Digest.ComputeSha256(Encoding.UTF8.GetBytes("what the manifest says"));
        var served = Encoding.UTF8.GetBytes("what a tampering registry sends");

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => store.IngestAsync(new MemoryStream(served), claimed, served.Length, CancellationToken.None));

        // Assert
        Assert.Contains(claimed.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(Digest.ComputeSha256(served).ToString(), error.Message, StringComparison.Ordinal);
        Assert.False(store.Exists(claimed));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(500)]
    public async Task IngestAsync_SizeMismatch_ThrowsAndLeavesNothing(long declaredSize)
    {
        // Arrange
        var store = new LocalContentStore(root.Path);
        var data = new byte[100];
        var digest = Digest.ComputeSha256(data);

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => store.IngestAsync(new MemoryStream(data), digest, declaredSize, CancellationToken.None));

        // Assert
        Assert.Contains(declaredSize.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.False(store.Exists(digest));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
    }

    [Fact]
    public async Task IngestAsync_Cancelled_LeavesNothing()
    {
        // Arrange
        var store = new LocalContentStore(root.Path);
        var data = new byte[1000];
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        // Act
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.IngestAsync(new MemoryStream(data), Digest.ComputeSha256(data), data.Length, cancellation.Token));

        // Assert
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
    }

    [Fact]
    public async Task Constructor_IngestLeftovers_AreDeleted()
    {
        // Arrange
        var store = new LocalContentStore(root.Path);
        var data = new byte[10];
        await store.IngestAsync(new MemoryStream(data), Digest.ComputeSha256(data), data.Length, CancellationToken.None);
        await File.WriteAllTextAsync(root.Combine("content", "ingest", "crashed"), "partial");

        // Act
        var reopened = new LocalContentStore(root.Path);

        // Assert
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
        Assert.Equal([Digest.ComputeSha256(data)], reopened.List());
    }

    [Fact]
    public void ReadAllBytes_MissingBlob_ThrowsNotFound()
    {
        // Arrange
        var store = new LocalContentStore(root.Path);

        // Act + Assert
        Assert.Throws<NotFoundException>(() => store.ReadAllBytes(Digest.ComputeSha256([1])));
    }
}
