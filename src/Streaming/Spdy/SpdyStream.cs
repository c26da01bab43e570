using System.Threading.Channels;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// One client-initiated SPDY stream as a duplex <see cref="Stream"/>: reads return the peer's
/// DATA (0 once it sent FIN, reset the stream or the connection ended); writes send DATA within
/// the peer's window. <see cref="CloseWriteAsync"/> sends our FIN; reading side and writing side
/// close independently, as SPDY half-closes do.
/// </summary>
internal sealed class SpdyStream : Stream
{
    // Keeps one DATA frame small enough that several streams share the connection fairly.
    private const int MaxDataFrame = 32 * 1024;

    private readonly SpdyConnection _connection;
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly SpdySendWindow _sendWindow;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[] _segment = [];
    private int _segmentOffset;
    private volatile bool _localClosed;
    private volatile bool _reset;

    public SpdyStream(SpdyConnection connection, uint id, IReadOnlyDictionary<string, string> headers, int initialSendWindow)
    {
        _connection = connection;
        Id = id;
        Headers = headers;
        _sendWindow = new SpdySendWindow(initialSendWindow);
    }

    public uint Id { get; }

    public IReadOnlyDictionary<string, string> Headers { get; }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }
        if (_segmentOffset == _segment.Length)
        {
            if (!await _received.Reader.WaitToReadAsync(cancellationToken) || !_received.Reader.TryRead(out var next))
            {
                return 0;
            }
            _segment = next;
            _segmentOffset = 0;
        }
        var count = Math.Min(buffer.Length, _segment.Length - _segmentOffset);
        _segment.AsMemory(_segmentOffset, count).CopyTo(buffer);
        _segmentOffset += count;
        if (_segmentOffset == _segment.Length)
        {
            // Consumed: let the peer send that much more.
            await _connection.SendWindowUpdateAsync(Id, _segment.Length);
        }
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            while (buffer.Length > 0)
            {
                ThrowIfNotWritable();
                var wanted = Math.Min(buffer.Length, MaxDataFrame);
                var granted = await _sendWindow.AcquireAsync(wanted, () => _connection.PeerDoesFlowControl, cancellationToken);
                ThrowIfNotWritable();
                await _connection.WriteDataAsync(Id, buffer[..granted], fin: false, cancellationToken);
                buffer = buffer[granted..];
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Sends our FIN once; later calls and a dead connection are ignored.</summary>
    public async Task CloseWriteAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_localClosed || _reset)
            {
                return;
            }
            _localClosed = true;
            _connection.ForgetWritable(Id);
            await _connection.WriteDataAsync(Id, ReadOnlyMemory<byte>.Empty, fin: true, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer is gone; there is nobody to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task ResetAsync(SpdyResetStatus status)
    {
        if (_reset)
        {
            return;
        }
        OnReset();
        await _connection.SendResetAsync(Id, status);
    }

    internal void OnData(byte[] payload, bool fin)
    {
        if (payload.Length > 0)
        {
            _received.Writer.TryWrite(payload);
        }
        if (fin)
        {
            _received.Writer.TryComplete();
        }
    }

    internal void OnRemoteFinished() => _received.Writer.TryComplete();

    internal void OnWindowUpdate(long delta) => _sendWindow.Add(delta);

    internal void OnReset()
    {
        _reset = true;
        _received.Writer.TryComplete();
        _sendWindow.Close();
    }

    private void ThrowIfNotWritable()
    {
        if (_reset)
        {
            throw new IOException($"SPDY stream {Id} was reset");
        }
        if (_localClosed)
        {
            throw new IOException($"SPDY stream {Id} is closed for writing");
        }
        _connection.ThrowIfClosed();
    }

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("SPDY streams are read asynchronously");
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("SPDY streams are written asynchronously");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
