namespace CriOci.ImageStore;

internal sealed partial class ImageService
{
    /// <summary>
    /// cri-api api.proto, RemoveImage: "This call is idempotent, and must not return an error
    /// if the image has already been removed." The whole image goes, with every tag, as in
    /// containerd's CRI plugin.
    /// </summary>
    public async Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var image = Find(referenceOrId);
        if (image is null)
        {
            return;
        }
        var removed = metadata.Remove(image.Id);
        if (removed is null)
        {
            return;
        }
        Log.ImageRemoved(logger, image.Id);
        // Once the record is gone the collection finishes even if the caller stops waiting:
        // leaving it half done would only strand disk space until the next start.
        try
        {
            await Task.Run(() => collector.CollectRemoved(removed), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The image is gone, which is what the caller asked; what could not be deleted
            // now is collected at the next start.
            Log.CollectionFailed(logger, image.Id, e);
        }
    }

    public async Task<GarbageCollectionResult> CollectGarbageAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Deleting layer trees is slow file system work; keep it off the caller's thread.
        var result = await Task.Run(collector.CollectAll, cancellationToken).ConfigureAwait(false);
        Log.GarbageCollected(logger, result.BlobsDeleted, result.BlobBytesFreed, result.LayersDeleted);
        return result;
    }
}
