using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using CriOci.Streaming.Spdy;

namespace CriOci.Streaming.Tests.Spdy;

/// <summary>
/// A minimal SPDY/3.1 client written from the draft-3 rules, independent of the server's
/// framing: it upgrades a raw TCP connection, opens streams with SYN_STREAM, sends DATA and
/// FIN, and records everything the server sends. Only zlib with the SPDY dictionary is shared
/// with the server (checked against node's zlib in <see cref="HeaderCompressionTests"/>).
/// It optionally announces a window with SETTINGS and then checks that the server never
/// sends beyond it.
/// </summary>
internal sealed class SpdyTestClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _network;
    private readonly SpdyHeaderCompressor _compressor = new();
    private readonly SpdyHeaderDecompressor _decompressor = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, ClientStream> _streams = new();
    private readonly TaskCompletionSource _goAway = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<uint> _pings = Channel.CreateUnbounded<uint>();
    private readonly bool _autoWindowUpdate;
    private uint _nextStreamId = 1;
    private Task _readLoop = Task.CompletedTask;

    private SpdyTestClient(TcpClient tcp, bool autoWindowUpdate, int? initialWindow)
    {
        _tcp = tcp;
        _network = tcp.GetStream();
        _autoWindowUpdate = autoWindowUpdate;
        InitialWindow = initialWindow;
    }

    /// <summary>The window announced with SETTINGS; null when the client acts like spdystream (no flow control).</summary>
    public int? InitialWindow { get; }

    /// <summary>DATA frames the server sent beyond the window this client granted.</summary>
    public int FlowControlViolations;

    public Task GoAwayReceived => _goAway.Task;

    public Task ReadLoop => _readLoop;

    public static async Task<(RawHttpResponse Response, SpdyTestClient? Client)> ConnectAsync(
        string url, string[] protocols, int? initialWindow = null, bool autoWindowUpdate = true)
    {
        var uri = new Uri(url);
        var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var headers = new List<(string, string)> { ("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1") };
        headers.AddRange(protocols.Select(protocol => ("X-Stream-Protocol-Version", protocol)));
        var response = await RawHttp.SendUpgradeAsync(tcp.GetStream(), uri, headers);
        if (response.StatusCode != 101)
        {
            tcp.Dispose();
            return (response, null);
        }
        var client = new SpdyTestClient(tcp, autoWindowUpdate, initialWindow);
        if (initialWindow is { } window)
        {
            await client.SendSettingsAsync(window);
        }
        client._readLoop = Task.Run(client.ReadLoopAsync);
        return (response, client);
    }

    public async Task<ClientStream> OpenStreamAsync(params (string Name, string Value)[] headers)
    {
        await _writeLock.WaitAsync();
        try
        {
            var id = _nextStreamId;
            _nextStreamId += 2;
            var stream = new ClientStream(this, id, InitialWindow ?? int.MaxValue);
            _streams[id] = stream;
            var block = new MemoryStream();
            WriteUInt32(block, (uint)headers.Length);
            foreach (var (name, value) in headers)
            {
                WriteString(block, name.ToLowerInvariant());
                WriteString(block, value);
            }
            var compressed = _compressor.Compress(block.ToArray());
            var payload = new byte[10 + compressed.Length];
            BinaryPrimitives.WriteUInt32BigEndian(payload, id);
            // associated-to 0, priority 0, slot 0
            compressed.CopyTo(payload, 10);
            await WriteControlLockedAsync(1, 0, payload);
            return stream;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public Task SendDataAsync(uint streamId, byte[] data, bool fin)
    {
        var frame = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, streamId & 0x7fffffff);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)data.Length);
        frame[4] = fin ? (byte)1 : (byte)0;
        data.CopyTo(frame, 8);
        return WriteAsync(frame);
    }

    public Task SendWindowUpdateAsync(uint streamId, int delta)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)delta);
        return WriteControlAsync(9, 0, payload);
    }

    /// <summary>Sends PING <paramref name="id"/> and waits for the server's echo.</summary>
    public async Task PingAsync(uint id)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, id);
        await WriteControlAsync(6, 0, payload);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await _pings.Reader.ReadAsync(timeout.Token) != id)
        {
        }
    }

    /// <summary>Drops the TCP connection without any goodbye, as a killed kubectl would.</summary>
    public void Abort()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        try
        {
            await _readLoop;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
        }
        _compressor.Dispose();
        _decompressor.Dispose();
    }

    private Task SendSettingsAsync(int window)
    {
        var payload = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(payload, 1);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), 7); // flags 0, id SETTINGS_INITIAL_WINDOW_SIZE
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(8), (uint)window);
        return WriteControlAsync(4, 0, payload);
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[8];
        try
        {
            while (true)
            {
                if (!await ReadExactOrEndAsync(header))
                {
                    break;
                }
                var length = (int)(BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4)) & 0xffffff);
                var flags = header[4];
                var payload = new byte[length];
                if (!await ReadExactOrEndAsync(payload))
                {
                    break;
                }
                if ((header[0] & 0x80) == 0)
                {
                    var id = BinaryPrimitives.ReadUInt32BigEndian(header) & 0x7fffffff;
                    if (_streams.TryGetValue(id, out var stream))
                    {
                        await stream.OnDataAsync(payload, (flags & 1) != 0);
                    }
                    continue;
                }
                var type = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2));
                switch (type)
                {
                    case 2: // SYN_REPLY
                        _decompressor.Decompress(payload.AsSpan(4));
                        if (_streams.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7fffffff, out var replied))
                        {
                            replied.Replied.TrySetResult();
                            if ((flags & 1) != 0)
                            {
                                replied.Data.Writer.TryComplete();
                            }
                        }
                        break;
                    case 3: // RST_STREAM
                        if (_streams.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7fffffff, out var reset))
                        {
                            reset.ResetStatus = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(4));
                            reset.Replied.TrySetResult();
                            reset.Data.Writer.TryComplete();
                        }
                        break;
                    case 6: // PING
                        _pings.Writer.TryWrite(BinaryPrimitives.ReadUInt32BigEndian(payload));
                        break;
                    case 7: // GOAWAY
                        _goAway.TrySetResult();
                        break;
                    case 8: // HEADERS
                        _decompressor.Decompress(payload.AsSpan(4));
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            foreach (var stream in _streams.Values)
            {
                stream.Data.Writer.TryComplete();
                stream.Replied.TrySetResult();
            }
        }
    }

    private async Task<bool> ReadExactOrEndAsync(byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await _network.ReadAsync(buffer.AsMemory(total));
            if (read == 0)
            {
                return false;
            }
            total += read;
        }
        return true;
    }

    private async Task WriteControlAsync(ushort type, byte flags, byte[] payload)
    {
        await _writeLock.WaitAsync();
        try
        {
            await WriteControlLockedAsync(type, flags, payload);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteControlLockedAsync(ushort type, byte flags, byte[] payload)
    {
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, 0x8003);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), type);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)payload.Length);
        frame[4] = flags;
        payload.CopyTo(frame, 8);
        await _network.WriteAsync(frame);
    }

    private async Task WriteAsync(byte[] frame)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _network.WriteAsync(frame);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteString(Stream stream, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        WriteUInt32(stream, (uint)bytes.Length);
        stream.Write(bytes);
    }

    /// <summary>One stream as the client sees it: what the server sent on it, its FIN, its reset.</summary>
    internal sealed class ClientStream(SpdyTestClient client, uint id, long initialWindow)
    {
        private long _granted = initialWindow;
        private long _received;

        public uint Id => id;
        public Channel<byte[]> Data { get; } = Channel.CreateUnbounded<byte[]>();
        public TaskCompletionSource Replied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public uint? ResetStatus { get; set; }
        public long Received => Interlocked.Read(ref _received);

        public Task SendAsync(string text, bool fin = false) => client.SendDataAsync(id, Encoding.UTF8.GetBytes(text), fin);

        public Task CloseAsync() => client.SendDataAsync(id, [], fin: true);

        /// <summary>Lets the server send <paramref name="delta"/> more bytes on this stream.</summary>
        public Task GrantAsync(int delta)
        {
            Interlocked.Add(ref _granted, delta);
            return client.SendWindowUpdateAsync(id, delta);
        }

        public async Task<byte[]> ReadToEndAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var all = new MemoryStream();
            await foreach (var chunk in Data.Reader.ReadAllAsync(timeout.Token))
            {
                all.Write(chunk);
            }
            return all.ToArray();
        }

        public async Task<string> ReadTextToEndAsync() => Encoding.UTF8.GetString(await ReadToEndAsync());

        /// <summary>Reads until <paramref name="expected"/> has arrived (not to the end).</summary>
        public async Task<string> ReadUntilAsync(string expected)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var text = new StringBuilder();
            while (!text.ToString().Contains(expected, StringComparison.Ordinal))
            {
                text.Append(Encoding.UTF8.GetString(await Data.Reader.ReadAsync(timeout.Token)));
            }
            return text.ToString();
        }

        internal async Task OnDataAsync(byte[] payload, bool fin)
        {
            var received = Interlocked.Add(ref _received, payload.Length);
            if (received > Interlocked.Read(ref _granted))
            {
                Interlocked.Increment(ref client.FlowControlViolations);
            }
            if (payload.Length > 0)
            {
                Data.Writer.TryWrite(payload);
                if (client._autoWindowUpdate && client.InitialWindow is not null)
                {
                    await GrantAsync(payload.Length);
                }
            }
            if (fin)
            {
                Data.Writer.TryComplete();
            }
        }
    }
}
