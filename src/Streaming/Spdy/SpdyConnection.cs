using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace CriOci.Streaming.Spdy;

/// <summary>
/// The server end of a SPDY/3.1 connection as Kubernetes' httpstream uses it: the client opens
/// every stream, the server answers each SYN_STREAM with an empty SYN_REPLY, echoes PINGs, and
/// ends with GOAWAY. One loop reads frames; writes of any stream go through one lock, which also
/// keeps the compressed header blocks in wire order.
/// </summary>
internal sealed class SpdyConnection : IAsyncDisposable
{
    private readonly Stream _transport;
    private readonly ILogger _logger;
    private readonly SpdyFrameReader _reader;
    private readonly SpdyHeaderCompressor _compressor = new();
    private readonly SpdyHeaderDecompressor _decompressor = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Streams the peer may still send DATA on (until its FIN), and streams we may still write
    // on (until our FIN), which WINDOW_UPDATE and SETTINGS address.
    private readonly ConcurrentDictionary<uint, SpdyStream> _streams = new();
    private readonly ConcurrentDictionary<uint, SpdyStream> _writableStreams = new();
    private readonly Channel<SpdyStream> _incoming = Channel.CreateUnbounded<SpdyStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationTokenSource _stopReading = new();
    private Task _readLoop = Task.CompletedTask;
    private int _initialSendWindow = SpdyWire.DefaultInitialWindowSize;
    private uint _lastClientStreamId;
    private volatile bool _peerDoesFlowControl;
    private volatile bool _goingAway;
    private int _disposed;

    public SpdyConnection(Stream transport, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
        _reader = new SpdyFrameReader(transport);
    }

    /// <summary>Streams the client opened, in order; completes when the connection ends.</summary>
    public ChannelReader<SpdyStream> IncomingStreams => _incoming.Reader;

    /// <summary>Cancelled once the client hung up or broke the protocol.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>
    /// Whether our sends wait for the peer's window. Kubernetes' SPDY library (moby/spdystream)
    /// ignores WINDOW_UPDATE and never sends one, so holding kubectl or crictl to 64 KiB would
    /// stall them for good; a peer that sends SETTINGS or WINDOW_UPDATE shows it speaks flow
    /// control and from then on is held to its windows.
    /// </summary>
    public bool PeerDoesFlowControl => _peerDoesFlowControl;

    public void Start() => _readLoop = Task.Run(ReadLoopAsync);

    internal void ThrowIfClosed()
    {
        if (_closed.IsCancellationRequested)
        {
            throw new IOException("the SPDY connection is closed");
        }
    }

    internal Task WriteDataAsync(uint streamId, ReadOnlyMemory<byte> data, bool fin, CancellationToken cancellationToken)
    {
        var frame = new byte[SpdyWire.FrameHeaderSize + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, streamId & SpdyWire.StreamIdMask);
        WriteFlagsAndLength(frame, fin ? SpdyWire.FlagFin : (byte)0, data.Length);
        data.CopyTo(frame.AsMemory(SpdyWire.FrameHeaderSize));
        return WriteFrameAsync(frame, cancellationToken);
    }

    internal async Task SendWindowUpdateAsync(uint streamId, int delta)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId & SpdyWire.StreamIdMask);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)delta & SpdyWire.StreamIdMask);
        await TryWriteControlAsync(SpdyControlType.WindowUpdate, 0, payload);
    }

    internal async Task SendResetAsync(uint streamId, SpdyResetStatus status)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId & SpdyWire.StreamIdMask);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)status);
        _streams.TryRemove(streamId, out _);
        _writableStreams.TryRemove(streamId, out _);
        await TryWriteControlAsync(SpdyControlType.RstStream, 0, payload);
    }

    /// <summary>
    /// Says GOAWAY, gives the client <paramref name="gracePeriod"/> to read what was sent and hang
    /// up (closing first could reset the TCP connection under data it has not read yet), then
    /// closes the transport.
    /// </summary>
    public async Task CloseAsync(TimeSpan gracePeriod)
    {
        if (!_goingAway)
        {
            _goingAway = true;
            var payload = new byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(payload, _lastClientStreamId);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), 0); // OK
            await TryWriteControlAsync(SpdyControlType.GoAway, 0, payload);
        }
        await Task.WhenAny(_readLoop, Task.Delay(gracePeriod));
        await _stopReading.CancelAsync();
        await _readLoop;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopReading.CancelAsync();
        await _transport.DisposeAsync();
        await _readLoop;
        await _writeLock.WaitAsync();
        _compressor.Dispose();
        _decompressor.Dispose();
        _writeLock.Release();
        _closed.Dispose();
        _stopReading.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _reader.ReadAsync(_stopReading.Token) is { } frame)
            {
                if (frame.IsControl)
                {
                    await HandleControlAsync(frame);
                }
                else if (_streams.TryGetValue(frame.StreamId, out var stream))
                {
                    stream.OnData(frame.Payload, frame.IsFin);
                    if (frame.IsFin)
                    {
                        // Our side may still be writing; the entry only routes frames from the peer.
                        _streams.TryRemove(frame.StreamId, out _);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopReading.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            Log.SpdyConnectionFailed(_logger, e.Message);
        }
        finally
        {
            await _closed.CancelAsync();
            _incoming.Writer.TryComplete();
            foreach (var stream in _streams.Values.Concat(_writableStreams.Values))
            {
                stream.OnReset();
            }
            _streams.Clear();
            _writableStreams.Clear();
        }
    }

    private async Task HandleControlAsync(SpdyFrame frame)
    {
        var payload = frame.Payload;
        switch (frame.Type)
        {
            case SpdyControlType.SynStream:
                await HandleSynStreamAsync(frame);
                break;
            case SpdyControlType.SynReply:
                // Servers never get one; inflate it anyway to keep the header context in step.
                RequireLength(payload, 4);
                _decompressor.Decompress(payload.AsSpan(4));
                break;
            case SpdyControlType.Headers:
                RequireLength(payload, 4);
                _decompressor.Decompress(payload.AsSpan(4));
                if (frame.IsFin && _streams.TryRemove(ReadStreamId(payload), out var finished))
                {
                    finished.OnRemoteFinished();
                }
                break;
            case SpdyControlType.RstStream:
                RequireLength(payload, 8);
                _writableStreams.TryRemove(ReadStreamId(payload), out _);
                if (_streams.TryRemove(ReadStreamId(payload), out var reset))
                {
                    reset.OnReset();
                }
                break;
            case SpdyControlType.Settings:
                HandleSettings(payload);
                break;
            case SpdyControlType.Ping:
                RequireLength(payload, 4);
                // Odd ids are the client's; ours (even) would be answers to pings we never send.
                if ((BinaryPrimitives.ReadUInt32BigEndian(payload) & 1) == 1)
                {
                    await TryWriteControlAsync(SpdyControlType.Ping, 0, payload);
                }
                break;
            case SpdyControlType.GoAway:
                _goingAway = true;
                break;
            case SpdyControlType.WindowUpdate:
                RequireLength(payload, 8);
                _peerDoesFlowControl = true;
                var delta = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4)) & SpdyWire.StreamIdMask;
                if (_writableStreams.TryGetValue(ReadStreamId(payload), out var updated))
                {
                    updated.OnWindowUpdate(delta);
                }
                break;
            default:
                // Section 2.2.1: unknown control frames are ignored.
                break;
        }
    }

    private async Task HandleSynStreamAsync(SpdyFrame frame)
    {
        var payload = frame.Payload;
        RequireLength(payload, 10);
        var id = ReadStreamId(payload);
        // Inflate before any check: the block is part of the shared compression context.
        var headers = SpdyHeaderBlock.Decode(_decompressor.Decompress(payload.AsSpan(10)));
        if (id == 0 || (id & 1) == 0 || id <= _lastClientStreamId)
        {
            await SendResetAsync(id, SpdyResetStatus.ProtocolError);
            return;
        }
        _lastClientStreamId = id;
        if (_goingAway)
        {
            await SendResetAsync(id, SpdyResetStatus.RefusedStream);
            return;
        }
        var stream = new SpdyStream(this, id, headers, _initialSendWindow);
        _writableStreams[id] = stream;
        if (frame.IsFin)
        {
            stream.OnRemoteFinished();
        }
        else
        {
            _streams[id] = stream;
        }
        await WriteSynReplyAsync(id);
        _incoming.Writer.TryWrite(stream);
    }

    private void HandleSettings(byte[] payload)
    {
        RequireLength(payload, 4);
        var count = BinaryPrimitives.ReadUInt32BigEndian(payload);
        RequireLength(payload, 4 + (int)Math.Min(count, 1024) * 8);
        _peerDoesFlowControl = true;
        for (var i = 0; i < count && i < 1024; i++)
        {
            var entry = payload.AsSpan(4 + i * 8);
            var id = BinaryPrimitives.ReadUInt32BigEndian(entry) & 0x00ffffff;
            var value = BinaryPrimitives.ReadUInt32BigEndian(entry[4..]);
            if (id == SpdyWire.SettingsInitialWindowSize && value <= int.MaxValue)
            {
                // Section 2.6.8: a new initial window shifts every open stream's window by the difference.
                var difference = (int)value - _initialSendWindow;
                _initialSendWindow = (int)value;
                foreach (var stream in _writableStreams.Values)
                {
                    stream.OnWindowUpdate(difference);
                }
            }
        }
    }

    private async Task WriteSynReplyAsync(uint streamId)
    {
        await _writeLock.WaitAsync();
        try
        {
            // An empty header block still goes through the compressor, which is why it is built under the lock.
            var block = _compressor.Compress(SpdyHeaderBlock.Encode([]));
            var frame = new byte[SpdyWire.FrameHeaderSize + 4 + block.Length];
            WriteControlHeader(frame, SpdyControlType.SynReply, 0, 4 + block.Length);
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(SpdyWire.FrameHeaderSize), streamId);
            block.CopyTo(frame.AsSpan(SpdyWire.FrameHeaderSize + 4));
            await _transport.WriteAsync(frame, _closed.Token);
            await _transport.FlushAsync(_closed.Token);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            Log.SpdyConnectionFailed(_logger, e.Message);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task TryWriteControlAsync(SpdyControlType type, byte flags, byte[] payload)
    {
        var frame = new byte[SpdyWire.FrameHeaderSize + payload.Length];
        WriteControlHeader(frame, type, flags, payload.Length);
        payload.CopyTo(frame.AsSpan(SpdyWire.FrameHeaderSize));
        try
        {
            await WriteFrameAsync(frame, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Control frames to a peer that is gone have no one to reach.
        }
    }

    private async Task WriteFrameAsync(byte[] frame, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        await _writeLock.WaitAsync(linked.Token);
        try
        {
            await _transport.WriteAsync(frame, linked.Token);
            await _transport.FlushAsync(linked.Token);
        }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the SPDY connection is closed");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Our side of the stream is closed: no more window to track.</summary>
    internal void ForgetWritable(uint streamId) => _writableStreams.TryRemove(streamId, out _);

    private static void WriteControlHeader(Span<byte> frame, SpdyControlType type, byte flags, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame, 0x8000 | SpdyWire.Version);
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)type);
        WriteFlagsAndLength(frame, flags, length);
    }

    private static void WriteFlagsAndLength(Span<byte> frame, byte flags, int length)
    {
        if (length > SpdyWire.MaxFrameLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "SPDY frame too long");
        }
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], (uint)length);
        frame[4] = flags;
    }

    private static uint ReadStreamId(byte[] payload) => BinaryPrimitives.ReadUInt32BigEndian(payload) & SpdyWire.StreamIdMask;

    private static void RequireLength(byte[] payload, int length)
    {
        if (payload.Length < length)
        {
            throw new InvalidDataException("SPDY control frame too short");
        }
    }
}
