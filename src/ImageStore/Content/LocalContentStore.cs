using System.Buffers;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Unpack.Interop;

namespace CriOci.ImageStore.Content;

/// <summary>
/// Blobs under &lt;root&gt;/content/blobs/&lt;alg&gt;/&lt;hex&gt;, written through
/// &lt;root&gt;/content/ingest/&lt;random&gt; and renamed into place after verification,
/// as containerd's plugins/content/local/writer.go Commit does.
/// </summary>
internal sealed class LocalContentStore : IContentStore
{
    private const int CopyBufferBytes = 128 * 1024;
    private const UnixFileMode BlobMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private readonly string blobsDirectory;
    private readonly string ingestDirectory;

    public LocalContentStore(string rootDirectory)
    {
        blobsDirectory = Path.Combine(rootDirectory, "content", "blobs");
        ingestDirectory = Path.Combine(rootDirectory, "content", "ingest");
        Directory.CreateDirectory(blobsDirectory);
        Directory.CreateDirectory(ingestDirectory);
        // Ingest files left by a crash are never resumed: a pull starts its blobs afresh.
        foreach (var leftover in Directory.EnumerateFiles(ingestDirectory))
        {
            File.Delete(leftover);
        }
    }

    public bool Exists(Digest digest) => File.Exists(PathOf(digest));

    public string PathOf(Digest digest) => Path.Combine(blobsDirectory, digest.Algorithm, digest.Hex);

    public async Task<long> IngestAsync(Stream source, Digest expected, long? expectedSize, CancellationToken cancellationToken)
    {
        var ingestPath = Path.Combine(ingestDirectory, Guid.NewGuid().ToString("N"));
        try
        {
            var (size, actual) = await CopyAndHashAsync(source, ingestPath, expected, expectedSize, cancellationToken).ConfigureAwait(false);
            if (expectedSize is { } wantedSize && size != wantedSize)
            {
                throw new FailedPreconditionException($"blob {expected}: got {size} bytes, the descriptor says {wantedSize}");
            }
            // containerd answers a digest mismatch with ErrFailedPrecondition too ("unexpected commit digest").
            if (actual != expected)
            {
                throw new FailedPreconditionException($"blob {expected} failed verification: the content's digest is {actual}");
            }
            var finalPath = PathOf(expected);
            var directory = Path.GetDirectoryName(finalPath)!;
            Directory.CreateDirectory(directory);
            File.Move(ingestPath, finalPath, overwrite: true);
            Syscalls.FsyncDirectory(directory);
            return size;
        }
        catch
        {
            File.Delete(ingestPath);
            throw;
        }
    }

    public byte[] ReadAllBytes(Digest digest)
    {
        try
        {
            return File.ReadAllBytes(PathOf(digest));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NotFoundException($"blob {digest} is not in the content store", e);
        }
    }

    public void Delete(Digest digest) => File.Delete(PathOf(digest));

    public long? SizeOf(Digest digest)
    {
        var file = new FileInfo(PathOf(digest));
        return file.Exists ? file.Length : null;
    }

    public IEnumerable<Digest> List()
    {
        foreach (var algorithmDirectory in Directory.EnumerateDirectories(blobsDirectory))
        {
            var algorithm = Path.GetFileName(algorithmDirectory);
            foreach (var file in Directory.EnumerateFiles(algorithmDirectory))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out var digest))
                {
                    yield return digest;
                }
            }
        }
    }

    private static async Task<(long Size, Digest Actual)> CopyAndHashAsync(
        Stream source, string ingestPath, Digest expected, long? expectedSize, CancellationToken cancellationToken)
    {
        using var hash = expected.CreateHash();
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = BlobMode,
                BufferSize = 0,
            };
            long size = 0;
            await using (var file = new FileStream(ingestPath, options))
            {
                int read;
                while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    size += read;
                    // Stop a registry that streams more than it announced before it fills the disk.
                    if (size > expectedSize)
                    {
                        throw new FailedPreconditionException($"blob {expected}: more than the {expectedSize} bytes the descriptor says");
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
                file.Flush(flushToDisk: true);
            }
            return (size, new Digest(expected.Algorithm, Convert.ToHexStringLower(hash.GetHashAndReset())));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
