using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CriOci.Streaming.WebSockets;

/// <summary>
/// Accepts a WebSocket with a subprotocol both sides know (wsstream's handshake): the client's
/// first offer the server supports; no offer at all means the plain channel protocol when the
/// server allows it (""), anything else is refused with 403 and the supported list.
/// </summary>
internal static class WebSocketHandshake
{
    public static bool IsWebSocketUpgrade(HttpContext context) =>
        context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase);

    /// <summary>The accepted socket and protocol ("" for none); null after an error response was written.</summary>
    public static async Task<(WebSocket Socket, string Protocol)?> TryAcceptAsync(HttpContext context, IReadOnlyList<string> serverProtocols, bool allowNoProtocol, ILogger logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            // The WebSockets middleware (app.UseWebSockets()) is what recognises the upgrade.
            await RefuseAsync(context, StatusCodes.Status500InternalServerError, "WebSocket support is not enabled on this server (UseWebSockets)", logger);
            return null;
        }
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        string? protocol;
        if (offered.Count == 0)
        {
            protocol = allowNoProtocol ? "" : null;
        }
        else
        {
            protocol = offered.FirstOrDefault(serverProtocols.Contains);
        }
        if (protocol is null)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"requested protocol(s) are not supported: [{string.Join(' ', offered)}]; supports [{string.Join(' ', serverProtocols)}]", logger);
            return null;
        }
        var socket = await context.WebSockets.AcceptWebSocketAsync(protocol.Length == 0 ? null : protocol);
        return (socket, protocol);
    }

    private static async Task RefuseAsync(HttpContext context, int statusCode, string message, ILogger logger)
    {
        Log.HandshakeRefused(logger, message);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n");
    }
}
