using System.Threading.Channels;

namespace CriOci.Streaming.WebSockets;

/// <summary>
/// One channel of a <see cref="WebSocketChannels"/> as a <see cref="Stream"/>: reads end (0) when
/// the client closed the channel (v5) or the WebSocket; writes become messages on the channel.
/// </summary>
internal sealed class WebSocketChannelStream(WebSocketChannels channels, byte channel, ChannelReader<byte[]>? input) : Stream
{
    private byte[] _segment = [];
    private int _segmentOffset;

    public byte Channel => channel;

    public override bool CanRead => input is not null;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (input is null)
        {
            throw new NotSupportedException($"channel {channel} is write-only");
        }
        if (buffer.Length == 0)
        {
            return 0;
        }
        if (_segmentOffset == _segment.Length)
        {
            if (!await input.WaitToReadAsync(cancellationToken) || !input.TryRead(out var next))
            {
                return 0;
            }
            _segment = next;
            _segmentOffset = 0;
        }
        var count = Math.Min(buffer.Length, _segment.Length - _segmentOffset);
        _segment.AsMemory(_segmentOffset, count).CopyTo(buffer);
        _segmentOffset += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > 0)
        {
            await channels.SendAsync(channel, buffer, cancellationToken);
        }
    }

    /// <summary>A message with the channel number alone: how wsstream announces a channel.</summary>
    public Task WriteEmptyAsync(CancellationToken cancellationToken) => channels.SendAsync(channel, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("channels are read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("channels are written asynchronously");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
