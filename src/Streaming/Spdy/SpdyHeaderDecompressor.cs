using CriOci.Streaming.Spdy.Interop;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// Inflates the header blocks the peer sends, through the one zlib stream of that direction.
/// Every block must pass through here in wire order, even those of frames that are ignored,
/// or the shared compression state goes out of step.
/// </summary>
internal sealed unsafe class SpdyHeaderDecompressor : IDisposable
{
    // Header blocks are small; a block inflating beyond this is an attack, not headers.
    public const int MaxBlockSize = 256 * 1024;

    private readonly ZStreamHandle _stream = ZStreamHandle.CreateInflater();

    public byte[] Decompress(ReadOnlySpan<byte> compressed)
    {
        var output = new MemoryStream(compressed.Length * 4);
        Span<byte> chunk = stackalloc byte[4096];
        var z = _stream.Stream;
        fixed (byte* input = compressed)
        {
            z->NextIn = input;
            z->AvailIn = (uint)compressed.Length;
            while (true)
            {
                int produced;
                int result;
                fixed (byte* outBuffer = chunk)
                {
                    z->NextOut = outBuffer;
                    z->AvailOut = (uint)chunk.Length;
                    result = ZLib.inflate(z, ZLib.Z_SYNC_FLUSH);
                    produced = chunk.Length - (int)z->AvailOut;
                }
                output.Write(chunk[..produced]);
                if (output.Length > MaxBlockSize)
                {
                    throw new InvalidDataException($"SPDY header block inflates beyond {MaxBlockSize} bytes");
                }
                if (result == ZLib.Z_NEED_DICT)
                {
                    fixed (byte* dictionary = SpdyDictionary.Bytes)
                    {
                        result = ZLib.inflateSetDictionary(z, dictionary, (uint)SpdyDictionary.Bytes.Length);
                    }
                    if (result != ZLib.Z_OK)
                    {
                        throw new InvalidDataException($"SPDY header block uses another dictionary: {ZLib.ErrorText(z, result)}");
                    }
                    continue;
                }
                if (result is ZLib.Z_BUF_ERROR or ZLib.Z_STREAM_END || (result == ZLib.Z_OK && z->AvailIn == 0 && z->AvailOut != 0))
                {
                    // All input consumed and nothing more pending.
                    break;
                }
                if (result != ZLib.Z_OK)
                {
                    throw new InvalidDataException($"SPDY header block does not inflate: {ZLib.ErrorText(z, result)}");
                }
            }
            z->NextIn = null;
        }
        return output.ToArray();
    }

    public void Dispose() => _stream.Dispose();
}
