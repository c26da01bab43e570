using System.IO.Compression;
using CriOci.Core;
using ZstdSharp;

namespace CriOci.ImageStore.Unpack;

/// <summary>
/// Opens a stored layer blob as its uncompressed tar. The compression is read from the magic
/// bytes, like containerd's archive/compression DecompressStream, so a layer labelled
/// "tar+gzip" that is really plain tar still works.
/// </summary>
internal static class LayerDecompression
{
    private static ReadOnlySpan<byte> GzipMagic => [0x1f, 0x8b];
    private static ReadOnlySpan<byte> ZstdMagic => [0x28, 0xb5, 0x2f, 0xfd];
    private static ReadOnlySpan<byte> XzMagic => [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
    private static ReadOnlySpan<byte> Bzip2Magic => "BZh"u8;

    /// <summary>Takes ownership of <paramref name="blob"/>, which must be seekable.</summary>
    public static Stream Open(FileStream blob, string layerDescription)
    {
        Span<byte> head = stackalloc byte[6];
        var read = blob.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        blob.Seek(0, SeekOrigin.Begin);
        head = head[..read];

        if (head.StartsWith(GzipMagic))
        {
            return new GZipStream(blob, CompressionMode.Decompress);
        }
        if (head.StartsWith(ZstdMagic))
        {
            return new DecompressionStream(blob);
        }
        if (head.StartsWith(XzMagic) || head.StartsWith(Bzip2Magic))
        {
            blob.Dispose();
            throw new FailedPreconditionException(
                $"{layerDescription} is compressed with {(head.StartsWith(XzMagic) ? "xz" : "bzip2")}, which OCI layers cannot use (gzip, zstd or none)");
        }
        return blob;
    }
}
