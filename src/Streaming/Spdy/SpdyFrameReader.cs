using System.Buffers.Binary;

namespace CriOci.Streaming.Spdy;

/// <summary>Reads whole SPDY/3 frames from the upgraded connection.</summary>
internal sealed class SpdyFrameReader(Stream transport)
{
    private readonly byte[] _header = new byte[SpdyWire.FrameHeaderSize];

    /// <summary>The next frame; null when the peer closed the connection between frames.</summary>
    public async ValueTask<SpdyFrame?> ReadAsync(CancellationToken cancellationToken)
    {
        var headerBytes = await ReadFullyAsync(_header, cancellationToken);
        if (headerBytes == 0)
        {
            return null;
        }
        if (headerBytes < _header.Length)
        {
            throw new EndOfStreamException("connection closed inside a SPDY frame header");
        }
        var first = BinaryPrimitives.ReadUInt32BigEndian(_header);
        var flags = _header[4];
        var length = (int)(BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(4)) & 0x00ffffff);
        var payload = length == 0 ? [] : new byte[length];
        if (await ReadFullyAsync(payload, cancellationToken) < length)
        {
            throw new EndOfStreamException("connection closed inside a SPDY frame");
        }
        if ((first & 0x80000000) == 0)
        {
            return new SpdyFrame(false, default, flags, first & SpdyWire.StreamIdMask, payload);
        }
        var version = (ushort)((first >> 16) & 0x7fff);
        if (version != SpdyWire.Version)
        {
            throw new InvalidDataException($"SPDY version {version} is not supported (only 3)");
        }
        return new SpdyFrame(true, (SpdyControlType)(first & 0xffff), flags, 0, payload);
    }

    private async ValueTask<int> ReadFullyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await transport.ReadAsync(buffer[total..], cancellationToken);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }
}
