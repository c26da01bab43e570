using System.Formats.Tar;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using Microsoft.Extensions.Logging;
using ZstdSharp;

namespace CriOci.ImageStore.Unpack;

/// <summary>
/// Unpacks one stored layer blob into an empty directory, streaming: decompress, hash the
/// tar (the layer's diff ID is checked at the end), and write each entry through
/// <see cref="EntryWriter"/>. A failure leaves a half-filled directory that the caller throws away.
/// The work is local file I/O from end to end, so it runs synchronously on one pool thread:
/// .NET emulates async file I/O on Unix with a thread-pool work item per call, which cost a
/// hop per tar read and per file written (3000 small files: thousands of hops).
/// </summary>
internal sealed class LayerUnpacker(ILogger logger)
{
    public Task UnpackAsync(
        string blobPath, string targetDirectory, Digest diffId, string layerDescription, CancellationToken cancellationToken) =>
        Task.Run(() => Unpack(blobPath, targetDirectory, diffId, layerDescription, cancellationToken), cancellationToken);

    private void Unpack(string blobPath, string targetDirectory, Digest diffId, string layerDescription, CancellationToken cancellationToken)
    {
        using var hash = diffId.CreateHash();
        var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        using (var tar = new HashingReadStream(LayerDecompression.Open(blob, layerDescription), hash))
        {
            var writer = new EntryWriter(new LayerTree(targetDirectory), logger, layerDescription);
            try
            {
                using (var reader = new TarReader(tar, leaveOpen: true))
                {
                    while (NextEntry(reader, layerDescription) is { } entry)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        writer.Write(entry);
                    }
                }
                // The blocks after the end-of-archive marker are part of the diff ID too.
                tar.CopyTo(Stream.Null);
            }
            catch (Exception e) when (e is InvalidDataException or ZstdException or EndOfStreamException)
            {
                throw new FailedPreconditionException($"{layerDescription} is not a valid layer archive: {e.Message}");
            }
            writer.ApplyDirectoryTimes();
        }

        var actual = new Digest(diffId.Algorithm, Convert.ToHexStringLower(hash.GetHashAndReset()));
        if (actual != diffId)
        {
            throw new FailedPreconditionException(
                $"{layerDescription}: the uncompressed layer has digest {actual}, but the image config says {diffId}");
        }
    }

    /// <summary>
    /// TarReader reports most malformed headers as InvalidDataException, but some as
    /// InvalidOperationException (a PAX extended header whose size field runs past what
    /// follows), FormatException, or NotSupportedException (GNU sparse files, which it cannot
    /// read): each is an archive this unpacker cannot use, never a daemon fault.
    /// </summary>
    private static TarEntry? NextEntry(TarReader reader, string layerDescription)
    {
        try
        {
            return reader.GetNextEntry(copyData: false);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new FailedPreconditionException($"{layerDescription} is not a valid layer archive: {e.Message}");
        }
    }
}
