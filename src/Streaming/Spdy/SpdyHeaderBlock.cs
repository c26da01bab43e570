using System.Buffers.Binary;
using System.Text;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// The uncompressed name/value block of SYN_STREAM, SYN_REPLY and HEADERS (SPDY/3 section
/// 2.6.10): a 32-bit count, then 32-bit length-prefixed names (lower case on the wire) and
/// values, several values of one name joined by NUL. Lookups ignore case, as Go's http.Header
/// canonicalises the names kubelet's peers send ("streamtype" arrives as "Streamtype").
/// </summary>
internal static class SpdyHeaderBlock
{
    public static byte[] Encode(IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var size = 4;
        foreach (var (name, value) in headers)
        {
            size += 8 + Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
        }
        var block = new byte[size];
        var span = block.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)headers.Count);
        var offset = 4;
        foreach (var (name, value) in headers)
        {
            offset += WriteString(span[offset..], name.ToLowerInvariant());
            offset += WriteString(span[offset..], value);
        }
        return block;
    }

    public static Dictionary<string, string> Decode(ReadOnlySpan<byte> block)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var count = ReadLength(ref block);
        for (var i = 0; i < count; i++)
        {
            var name = ReadString(ref block);
            var value = ReadString(ref block);
            // Several values arrive NUL-separated; the streaming protocols use one per name.
            var first = value.Split('\0')[0];
            headers.TryAdd(name, first);
        }
        return headers;
    }

    private static int WriteString(Span<byte> destination, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)length);
        return 4 + length;
    }

    private static int ReadLength(ref ReadOnlySpan<byte> block)
    {
        if (block.Length < 4)
        {
            throw new InvalidDataException("truncated SPDY header block");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(block);
        block = block[4..];
        if (length > SpdyHeaderDecompressor.MaxBlockSize)
        {
            throw new InvalidDataException("SPDY header block length out of range");
        }
        return (int)length;
    }

    private static string ReadString(ref ReadOnlySpan<byte> block)
    {
        var length = ReadLength(ref block);
        if (block.Length < length)
        {
            throw new InvalidDataException("truncated SPDY header block");
        }
        var text = Encoding.UTF8.GetString(block[..length]);
        block = block[length..];
        return text;
    }
}
