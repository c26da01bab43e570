using System.Threading.Channels;
using CriOci.Streaming.WebSockets;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// Exec and attach over WebSocket (kubelet's remotecommand websocket handler): channels 0 stdin,
/// 1 stdout, 2 stderr, 3 error, 4 resize. An empty message on the lowest output channel tells
/// the client the session is set up; the error channel gets the outcome before the close.
/// </summary>
internal static class WebSocketRemoteCommand
{
    public const byte StdinChannel = 0;
    public const byte StdoutChannel = 1;
    public const byte StderrChannel = 2;
    public const byte ErrorChannel = 3;
    public const byte ResizeChannel = 4;

    public static async Task ServeAsync(HttpContext context, StreamingServer server, IMessage request, string verb)
    {
        var accepted = await WebSocketHandshake.TryAcceptAsync(context, RemoteCommandProtocol.WebSocket, allowNoProtocol: true, server.Logger);
        if (accepted is not var (socket, negotiated))
        {
            return;
        }
        using var _ = socket;
        // No subprotocol offered: kubelet serves the original binary channel protocol.
        var protocol = negotiated.Length == 0 ? RemoteCommandProtocol.V1 : negotiated;
        var requested = RemoteCommandRunner.StreamsOf(request);
        var readable = new List<byte>();
        if (requested.Stdin)
        {
            readable.Add(StdinChannel);
        }
        if (requested.Tty)
        {
            readable.Add(ResizeChannel);
        }
        var channels = new WebSocketChannels(socket,
            base64: protocol is RemoteCommandProtocol.V1Base64 or RemoteCommandProtocol.V4Base64,
            closeSignal: protocol == RemoteCommandProtocol.V5,
            readable, server.Logger);
        channels.Start();
        Log.SessionStarted(server.Logger, verb, RemoteCommandRunner.TargetOf(request), "WebSocket " + protocol);

        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(channels.Closed, context.RequestAborted);
        var stdout = requested.Stdout ? channels.Open(StdoutChannel) : null;
        var stderr = requested.Stderr && !requested.Tty ? channels.Open(StderrChannel) : null;
        var error = channels.Open(ErrorChannel);
        try
        {
            // wsstream clients wait for a first message before they consider the session open.
            await (stdout ?? stderr ?? error).WriteEmptyAsync(lifetime.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            await channels.CloseAsync(TimeSpan.Zero);
            return;
        }

        Channel<TerminalSize>? resize = null;
        var resizePump = Task.CompletedTask;
        if (requested.Tty)
        {
            resize = Channel.CreateUnbounded<TerminalSize>();
            resizePump = ResizeDecoder.PumpAsync(channels.Open(ResizeChannel), resize.Writer, lifetime.Token);
        }
        var io = new StreamingIo
        {
            Stdin = requested.Stdin ? channels.Open(StdinChannel) : null,
            Stdout = stdout,
            Stderr = stderr,
            Tty = requested.Tty,
            Resize = resize?.Reader,
        };

        var status = await RemoteCommandRunner.RunAsync(server, request, io, lifetime.Token);

        if (RemoteCommandProtocol.EncodeStatus(protocol, status) is { } encoded)
        {
            try
            {
                await error.WriteAsync(encoded, lifetime.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The client left before the outcome; nobody to tell.
            }
        }
        await channels.CloseAsync(server.Options.CloseGracePeriod);
        await lifetime.CancelAsync();
        await resizePump;
    }
}
