namespace CriOci.ImageStore;

/// <summary>
/// The node's image store: pulls images from OCI distribution registries, keeps their blobs
/// content-addressed and their layers unpacked for overlay mounts. The CRI ImageService
/// handlers sit on top of it; every method is safe to call concurrently.
/// </summary>
public interface IImageService
{
    /// <summary>
    /// Pulls <paramref name="reference"/> (or returns the stored image when the reference is a
    /// digest already present) and returns its record. Concurrent pulls of one reference
    /// download once; cancelling one caller stops the download only when no other caller waits.
    /// </summary>
    Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken);

    /// <summary>
    /// Finds an image by reference (normalised: "busybox" is "docker.io/library/busybox:latest"),
    /// by repo digest (name@sha256:...), by full image ID ("sha256:&lt;hex&gt;") or by a unique
    /// ID prefix of at least 12 hex characters, with or without "sha256:". Null when absent.
    /// </summary>
    ImageRecord? Find(string referenceOrId);

    IReadOnlyList<ImageRecord> List();

    /// <summary>
    /// Removes the image with all its tags and digests; layers and blobs no other image uses
    /// are deleted. Idempotent: an unknown image is success, as CRI RemoveImage requires.
    /// </summary>
    Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes every blob and unpacked layer that no image record references and no running
    /// pull holds (containerd's content and snapshot GC). Safe while pulls run: what a pull has
    /// fetched but not yet recorded is leased. Images in use by containers keep their records
    /// (CRI RemoveImage refuses them), so their layers are never collected.
    /// </summary>
    Task<GarbageCollectionResult> CollectGarbageAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Imports every image of an OCI image layout directory (image-spec image-layout.md), as a
    /// pull from it: digests verified, layers unpacked, records written; an index entry is
    /// resolved to this machine's platform. Each index.json entry is named by its
    /// "io.containerd.image.name" annotation, or by "org.opencontainers.image.ref.name" (a full
    /// reference, or a tag of <paramref name="baseName"/>); unnamed entries become
    /// <paramref name="baseName"/>@digest. Returns the imported images in index order.
    /// </summary>
    Task<IReadOnlyList<ImageRecord>> ImportLayoutAsync(string layoutDirectory, string? baseName, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the image (its platform manifest, config and layers) into an OCI image layout,
    /// creating it or adding to one: one index.json entry per tag, with ref.name = tag and
    /// io.containerd.image.name = full name. NotFound when the image is not stored.
    /// </summary>
    Task ExportLayoutAsync(string referenceOrId, string layoutDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// True when the image is one of <see cref="ImageStoreOptions.PinnedImages"/> (by any of
    /// its tags or digests, or its ID). CRI reports it pinned, so kubelet's image garbage
    /// collection never removes it.
    /// </summary>
    bool IsPinned(ImageRecord image);

    /// <summary>Disk use of the whole store, for CRI ImageFsInfo.</summary>
    ImageFilesystemUsage GetFilesystemUsage();

    /// <summary>
    /// Absolute paths of the image's unpacked layer directories, topmost layer first, which is
    /// the order overlayfs wants for lowerdir.
    /// </summary>
    IReadOnlyList<string> GetLayerDirectories(ImageRecord image);
}
