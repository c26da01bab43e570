using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace CriOci.Streaming.WebSockets;

/// <summary>
/// Kubernetes' channel multiplexing over one WebSocket (apimachinery wsstream): every message
/// starts with its channel number, one byte in binary mode, or one ASCII digit followed by
/// base64 text in the base64 protocols. From v5 a client message [255, channel] closes that
/// channel (stdin EOF). Messages for channels the session does not read are dropped, as
/// kubelet's IgnoreChannel does.
/// </summary>
internal sealed class WebSocketChannels
{
    /// <summary>remotecommand's CloseStreamChannel of the v5 protocol.</summary>
    public const byte CloseSignal = 255;

    private const int MaxMessageSize = 16 * 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly bool _base64;
    private readonly bool _closeSignal;
    private readonly ILogger _logger;
    private readonly Dictionary<byte, Channel<byte[]>> _inputs = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private Task _receiveLoop = Task.CompletedTask;

    public WebSocketChannels(WebSocket socket, bool base64, bool closeSignal, IEnumerable<byte> readableChannels, ILogger logger)
    {
        _socket = socket;
        _base64 = base64;
        _closeSignal = closeSignal;
        _logger = logger;
        foreach (var channel in readableChannels)
        {
            _inputs[channel] = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        }
    }

    /// <summary>Cancelled once the client closed the WebSocket or the connection broke.</summary>
    public CancellationToken Closed => _closed.Token;

    public void Start() => _receiveLoop = Task.Run(ReceiveLoopAsync);

    /// <summary>A duplex view of one channel: reads what the client sent on it, writes go to the client on it.</summary>
    public WebSocketChannelStream Open(byte channel) =>
        new(this, channel, _inputs.TryGetValue(channel, out var input) ? input.Reader : null);

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        byte[] message;
        if (_base64)
        {
            var text = (char)('0' + channel) + Convert.ToBase64String(data.Span);
            message = Encoding.ASCII.GetBytes(text);
        }
        else
        {
            message = new byte[data.Length + 1];
            message[0] = channel;
            data.CopyTo(message.AsMemory(1));
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token);
        await _sendLock.WaitAsync(linked.Token);
        try
        {
            await _socket.SendAsync(message, _base64 ? WebSocketMessageType.Text : WebSocketMessageType.Binary, endOfMessage: true, linked.Token);
        }
        catch (WebSocketException e)
        {
            // Writers see the same IOException as on any other broken stream.
            throw new IOException("the WebSocket is closed", e);
        }
        catch (OperationCanceledException e) when (_closed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the WebSocket is closed", e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Closes the WebSocket normally, waits up to <paramref name="gracePeriod"/> for the client's close, then aborts.</summary>
    public async Task CloseAsync(TimeSpan gracePeriod)
    {
        await _sendLock.WaitAsync();
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(gracePeriod);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _sendLock.Release();
        }
        await Task.WhenAny(_receiveLoop, Task.Delay(gracePeriod));
        _socket.Abort();
        await _receiveLoop;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                buffer.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.GetMemory(4096), CancellationToken.None);
                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > MaxMessageSize)
                    {
                        throw new InvalidDataException("WebSocket message too large");
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                Dispatch(buffer.WrittenSpan, result.MessageType == WebSocketMessageType.Text);
            }
        }
        catch (Exception e) when (e is WebSocketException or InvalidDataException or FormatException or OperationCanceledException or ObjectDisposedException)
        {
            Log.SpdyConnectionFailed(_logger, "WebSocket: " + e.Message);
        }
        finally
        {
            await _closed.CancelAsync();
            foreach (var input in _inputs.Values)
            {
                input.Writer.TryComplete();
            }
        }
    }

    private void Dispatch(ReadOnlySpan<byte> message, bool text)
    {
        if (message.IsEmpty)
        {
            return;
        }
        byte channel;
        byte[] payload;
        if (text)
        {
            // base64 protocols: the channel as an ASCII digit, then the payload in base64.
            channel = (byte)(message[0] - '0');
            payload = Convert.FromBase64String(Encoding.ASCII.GetString(message[1..]));
        }
        else
        {
            channel = message[0];
            payload = message[1..].ToArray();
        }
        if (_closeSignal && channel == CloseSignal)
        {
            if (payload.Length > 0 && _inputs.TryGetValue(payload[0], out var closing))
            {
                closing.Writer.TryComplete();
            }
            return;
        }
        if (payload.Length > 0 && _inputs.TryGetValue(channel, out var input))
        {
            input.Writer.TryWrite(payload);
        }
    }
}
