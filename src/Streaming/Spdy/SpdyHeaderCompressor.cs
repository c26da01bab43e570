using CriOci.Streaming.Spdy.Interop;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// Compresses the header blocks one side sends. SPDY/3 uses one zlib stream per direction for
/// the whole connection, flushed with Z_SYNC_FLUSH after each block, so blocks must be
/// compressed in exactly the order they go on the wire (the caller holds the write lock).
/// </summary>
internal sealed unsafe class SpdyHeaderCompressor : IDisposable
{
    private readonly ZStreamHandle _stream;

    public SpdyHeaderCompressor()
    {
        // Level 9, like the Go framer; the level does not affect what the peer can read.
        _stream = ZStreamHandle.CreateDeflater(ZLib.Z_BEST_COMPRESSION);
        fixed (byte* dictionary = SpdyDictionary.Bytes)
        {
            var result = ZLib.deflateSetDictionary(_stream.Stream, dictionary, (uint)SpdyDictionary.Bytes.Length);
            if (result != ZLib.Z_OK)
            {
                _stream.Dispose();
                throw new InvalidOperationException($"deflateSetDictionary failed: zlib error {result}");
            }
        }
    }

    public byte[] Compress(ReadOnlySpan<byte> block)
    {
        var output = new MemoryStream(block.Length / 2 + 64);
        Span<byte> chunk = stackalloc byte[1024];
        var z = _stream.Stream;
        fixed (byte* input = block)
        {
            z->NextIn = input;
            z->AvailIn = (uint)block.Length;
            // deflate has emitted everything once it leaves room in the output buffer.
            do
            {
                fixed (byte* outBuffer = chunk)
                {
                    z->NextOut = outBuffer;
                    z->AvailOut = (uint)chunk.Length;
                    var result = ZLib.deflate(z, ZLib.Z_SYNC_FLUSH);
                    if (result != ZLib.Z_OK && result != ZLib.Z_BUF_ERROR)
                    {
                        throw new InvalidOperationException($"deflate failed: {ZLib.ErrorText(z, result)}");
                    }
                    output.Write(chunk[..(chunk.Length - (int)z->AvailOut)]);
                }
            }
            while (z->AvailOut == 0);
            z->NextIn = null;
        }
        return output.ToArray();
    }

    public void Dispose() => _stream.Dispose();
}
