using CriOci.ImageStore.Content;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Snapshots;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Metadata;

/// <summary>
/// Deletes blobs and unpacked layers that no image record references and no pull holds a
/// lease on. Layers are renamed away under the lease gate and deleted after it is released.
/// </summary>
internal sealed class GarbageCollector(
    ImageMetadataStore metadata, IContentStore content, SnapshotStore snapshots, LeaseSet leases, ILogger logger)
{
    /// <summary>Collects what the removed image held, unless another image still uses it.</summary>
    public GarbageCollectionResult CollectRemoved(StoredImage removed) =>
        Collect(removed.Blobs, removed.Image.ChainIds);

    /// <summary>Collects everything unreferenced: blobs and layers of pulls a crash or a failure left behind.</summary>
    public GarbageCollectionResult CollectAll() =>
        Collect(content.List().Select(d => d.ToString()).ToList(), snapshots.List().Select(d => d.ToString()).ToList());

    private GarbageCollectionResult Collect(IReadOnlyList<string> candidateBlobs, IReadOnlyList<string> candidateChainIds)
    {
        var detached = new List<string>();
        var blobsDeleted = 0;
        long bytesFreed = 0;
        lock (leases.Gate)
        {
            var referencedBlobs = new HashSet<string>(StringComparer.Ordinal);
            var referencedChainIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var image in metadata.All())
            {
                referencedBlobs.UnionWith(image.Blobs);
                referencedChainIds.UnionWith(image.Image.ChainIds);
            }
            foreach (var chainId in candidateChainIds)
            {
                if (!referencedChainIds.Contains(chainId) && !leases.IsLeased(chainId)
                    && Digest.TryParse(chainId, out var digest) && snapshots.Detach(digest) is { } path)
                {
                    detached.Add(path);
                }
            }
            foreach (var blob in candidateBlobs)
            {
                if (!referencedBlobs.Contains(blob) && !leases.IsLeased(blob) && Digest.TryParse(blob, out var digest))
                {
                    var size = content.SizeOf(digest);
                    content.Delete(digest);
                    if (size is { } deleted)
                    {
                        blobsDeleted++;
                        bytesFreed += deleted;
                    }
                }
            }
        }
        foreach (var path in detached)
        {
            SnapshotStore.DeleteDetached(path);
        }
        if (detached.Count > 0)
        {
            Log.LayersCollected(logger, detached.Count);
        }
        return new GarbageCollectionResult(blobsDeleted, bytesFreed, detached.Count);
    }
}
