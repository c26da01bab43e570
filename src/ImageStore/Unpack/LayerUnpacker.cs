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
/// </summary>
internal sealed class LayerUnpacker(ILogger logger)
{
    public async Task UnpackAsync(
        string blobPath, string targetDirectory, Digest diffId, string layerDescription, CancellationToken cancellationToken)
    {
        using var hash = diffId.CreateHash();
        var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        var tar = new HashingReadStream(LayerDecompression.Open(blob, layerDescription), hash);
        await using (tar.ConfigureAwait(false))
        {
            var writer = new EntryWriter(new LayerTree(targetDirectory), logger, layerDescription);
            try
            {
                var reader = new TarReader(tar, leaveOpen: true);
                await using (reader.ConfigureAwait(false))
                {
                    while (await NextEntryAsync(reader, layerDescription, cancellationToken).ConfigureAwait(false) is { } entry)
                    {
                        await writer.WriteAsync(entry, cancellationToken).ConfigureAwait(false);
                    }
                }
                // The blocks after the end-of-archive marker are part of the diff ID too.
                await tar.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
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
    private static async Task<TarEntry?> NextEntryAsync(TarReader reader, string layerDescription, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NotSupportedException)
        {
            throw new FailedPreconditionException($"{layerDescription} is not a valid layer archive: {e.Message}");
        }
    }
}
