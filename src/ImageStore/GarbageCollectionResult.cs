namespace CriOci.ImageStore;

/// <summary>What one garbage collection deleted.</summary>
/// <param name="BlobsDeleted">Blobs (manifests, configs, compressed layers) no image referenced.</param>
/// <param name="BlobBytesFreed">Their total size.</param>
/// <param name="LayersDeleted">Unpacked layer directories no image referenced.</param>
public sealed record GarbageCollectionResult(int BlobsDeleted, long BlobBytesFreed, int LayersDeleted);
