using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// Turns the resize stream, a sequence of JSON objects as Go's json.Encoder writes them (no
/// framing, optional whitespace between), into <see cref="TerminalSize"/> events.
/// </summary>
internal static class ResizeDecoder
{
    private const int MaxPendingBytes = 64 * 1024;

    public static async Task PumpAsync(Stream source, ChannelWriter<TerminalSize> events, CancellationToken cancellationToken)
    {
        var pending = new ArrayBufferWriter<byte>();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                pending.Write(buffer.AsSpan(0, read));
                var consumed = DecodeComplete(pending.WrittenSpan, events);
                var rest = pending.WrittenSpan[consumed..].ToArray();
                pending.Clear();
                pending.Write(rest);
                if (pending.WrittenCount > MaxPendingBytes)
                {
                    throw new InvalidDataException("resize stream sent an oversized message");
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or JsonException or InvalidDataException)
        {
            // A broken resize stream ends resizing, never the session.
        }
        finally
        {
            events.TryComplete();
        }
    }

    /// <summary>Decodes every complete object at the start of <paramref name="data"/>; returns the bytes used.</summary>
    internal static int DecodeComplete(ReadOnlySpan<byte> data, ChannelWriter<TerminalSize> events)
    {
        var consumed = 0;
        while (true)
        {
            var reader = new Utf8JsonReader(data[consumed..], isFinalBlock: false, state: default);
            if (!reader.Read())
            {
                return consumed;
            }
            var start = (int)reader.TokenStartIndex;
            if (!reader.TrySkip())
            {
                return consumed;
            }
            var end = (int)reader.BytesConsumed;
            var message = JsonSerializer.Deserialize(data.Slice(consumed + start, end - start), StreamingJsonContext.Default.ResizeMessage);
            if (message is not null)
            {
                events.TryWrite(new TerminalSize(message.Width, message.Height));
            }
            consumed += end;
        }
    }
}
