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

    /// <summary>Disk use of the whole store, for CRI ImageFsInfo.</summary>
    ImageFilesystemUsage GetFilesystemUsage();

    /// <summary>
    /// Absolute paths of the image's unpacked layer directories, topmost layer first, which is
    /// the order overlayfs wants for lowerdir.
    /// </summary>
    IReadOnlyList<string> GetLayerDirectories(ImageRecord image);
}
