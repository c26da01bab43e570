using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Layout;

/// <summary>
/// Reads manifests and blobs of an OCI image layout (image-spec image-layout.md:
/// blobs/&lt;alg&gt;/&lt;hex&gt;) the way a registry session serves them, so an import runs the
/// pull pipeline: digests verified, layers unpacked safely, the same records. Only digests can
/// be asked for; the paths come from parsed digests, so nothing outside blobs/ is read.
/// </summary>
internal sealed class OciLayoutSession(string layoutDirectory) : IRegistrySession
{
    public async Task<FetchedManifest> GetManifestAsync(string tagOrDigest, CancellationToken cancellationToken)
    {
        var digest = Digest.TryParse(tagOrDigest, out var parsed)
            ? parsed
            : throw new InvalidArgumentException($"image layout {layoutDirectory}: manifests are found by digest, not \"{tagOrDigest}\"");
        var path = BlobPath(digest);
        var what = $"manifest {digest} in image layout {layoutDirectory}";
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new NotFoundException($"{what} is missing (no {path})");
        }
        if (info.Length > RegistrySession.MaxManifestBytes)
        {
            throw new FailedPreconditionException($"{what} is larger than {RegistrySession.MaxManifestBytes} bytes");
        }
        var content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var actual = digest.Compute(content);
        if (actual != digest)
        {
            throw new FailedPreconditionException($"{what} has the digest {actual}: the layout is damaged");
        }
        return new FetchedManifest(ManifestKind.Detect(null, content, what), content, digest);
    }

    public Task<Stream> OpenBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = BlobPath(digest);
        try
        {
            return Task.FromResult<Stream>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.SequentialScan | FileOptions.Asynchronous));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException($"blob {digest} is missing from image layout {layoutDirectory} (no {path})", e);
        }
    }

    private string BlobPath(Digest digest) => Path.Combine(layoutDirectory, "blobs", digest.Algorithm, digest.Hex);
}
