using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Content;

/// <summary>
/// Content-addressed blobs (manifests, configs, compressed layers), after containerd's
/// core/content/content.go. A blob becomes visible only once its size and digest are checked.
/// </summary>
internal interface IContentStore
{
    bool Exists(Digest digest);

    /// <summary>Where the blob lives (whether or not it exists yet).</summary>
    string PathOf(Digest digest);

    /// <summary>
    /// Streams <paramref name="source"/> into the store, hashing while writing, and publishes
    /// it under <paramref name="expected"/> only when the digest (and size, when given)
    /// match. On mismatch nothing is kept and <see cref="Core.FailedPreconditionException"/> is thrown.
    /// </summary>
    Task<long> IngestAsync(Stream source, Digest expected, long? expectedSize, CancellationToken cancellationToken);

    byte[] ReadAllBytes(Digest digest);

    /// <summary>The blob's size in bytes; null when it is not there.</summary>
    long? SizeOf(Digest digest);

    /// <summary>Deletes the blob; a missing blob is not an error.</summary>
    void Delete(Digest digest);

    IEnumerable<Digest> List();
}
