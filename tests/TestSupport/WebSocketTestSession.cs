using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Xunit;

namespace CriOci.TestSupport;

/// <summary>
/// A <see cref="ClientWebSocket"/> speaking Kubernetes' channel protocol: it records every
/// message the server sends, by channel, and sends channel-prefixed messages.
/// </summary>
public sealed class WebSocketTestSession : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<byte, MemoryStream> _channels = new();
    private readonly ConcurrentQueue<byte[]> _messages = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _receiveLoop;

    private WebSocketTestSession(ClientWebSocket socket)
    {
        _socket = socket;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public string? Protocol => _socket.SubProtocol;

    /// <summary>Every message in arrival order, channel byte included.</summary>
    public IReadOnlyCollection<byte[]> Messages => _messages;

    /// <summary>Completes when the server closed the WebSocket (or the connection broke).</summary>
    public Task Closed => _receiveLoop;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static Task<WebSocketTestSession> ConnectAsync(string url, params string[] protocols) =>
        ConnectAsync(url, trustedCertificate: null, protocols);

    /// <summary>Over TLS (https URLs) the server's certificate must be <paramref name="trustedCertificate"/> when given.</summary>
    public static async Task<WebSocketTestSession> ConnectAsync(string url, System.Security.Cryptography.X509Certificates.X509Certificate2? trustedCertificate, params string[] protocols)
    {
        var socket = new ClientWebSocket();
        if (trustedCertificate is not null)
        {
            socket.Options.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == trustedCertificate.GetCertHashString();
        }
        foreach (var protocol in protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }
        await socket.ConnectAsync(WebSocketUri(url), CancellationToken.None);
        return new WebSocketTestSession(socket);
    }

    /// <summary>The HTTP status of a refused handshake.</summary>
    public static async Task<(int StatusCode, WebSocketException Error)> ConnectRefusedAsync(string url, params string[] protocols)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var protocol in protocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }
        var error = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WebSocketUri(url), CancellationToken.None));
        return ((int)socket.HttpStatusCode, error);
    }

    public static Uri WebSocketUri(string url) =>
        new(url.Replace("https://", "wss://", StringComparison.Ordinal).Replace("http://", "ws://", StringComparison.Ordinal));

    public Task SendAsync(byte channel, string text) => SendRawAsync([channel, .. Encoding.UTF8.GetBytes(text)]);

    public Task SendRawAsync(byte[] message) => _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);

    public Task CloseAsync() => _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

    public string Text(byte channel) => _channels.TryGetValue(channel, out var data) ? Encoding.UTF8.GetString(data.ToArray()) : "";

    public async Task<string> ReadUntilAsync(byte channel, string expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Text(channel).Contains(expected, StringComparison.Ordinal))
        {
            if (_receiveLoop.IsCompleted)
            {
                throw new EndOfStreamException($"closed before {expected}; channel {channel} has {Text(channel)}");
            }
            await _changed.WaitAsync(TimeSpan.FromMilliseconds(200), timeout.Token);
        }
        return Text(channel);
    }

    public async Task WaitClosedAsync()
    {
        await _receiveLoop.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Drops the TCP connection without a close handshake.</summary>
    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        await _receiveLoop;
        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }
                    return;
                }
                var bytes = message.ToArray();
                _messages.Enqueue(bytes);
                if (bytes.Length > 0)
                {
                    _channels.GetOrAdd(bytes[0], _ => new MemoryStream()).Write(bytes, 1, bytes.Length - 1);
                }
                _changed.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _changed.Release();
        }
    }
}
