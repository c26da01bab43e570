using CriOci.Cri.V1;
using CriOci.Streaming.PortForward;
using CriOci.Streaming.RemoteCommand;
using CriOci.Streaming.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CriOci.Streaming;

/// <summary>
/// The streaming routes, where the URLs of <see cref="StreamingServer"/> lead: GET (or POST, as
/// kubelet allows) /exec/{token}, /attach/{token} and /portforward/{token}. Each route speaks
/// SPDY/3.1 or WebSocket, whichever the client's Upgrade header asks for. A token is consumed
/// by its first request, whatever happens next: unknown, used or expired ones get 404.
/// </summary>
public static class StreamingEndpoints
{
    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Post];

    /// <summary>
    /// Maps the routes. The application must also call <c>UseWebSockets()</c> (or use
    /// <see cref="UseStreaming"/>) for the WebSocket protocols.
    /// </summary>
    public static RouteGroupBuilder MapStreaming(this IEndpointRouteBuilder endpoints, StreamingServer server)
    {
        var group = endpoints.MapGroup("");
        group.MapMethods("/exec/{token}", Methods, context => ServeRemoteCommandAsync(context, server, "exec"));
        group.MapMethods("/attach/{token}", Methods, context => ServeRemoteCommandAsync(context, server, "attach"));
        group.MapMethods("/portforward/{token}", Methods, context => ServePortForwardAsync(context, server));
        return group;
    }

    /// <summary>Enables WebSockets and maps the streaming routes on <paramref name="app"/>.</summary>
    public static WebApplication UseStreaming(this WebApplication app, StreamingServer server)
    {
        app.UseWebSockets();
        app.MapStreaming(server);
        return app;
    }

    private static async Task ServeRemoteCommandAsync(HttpContext context, StreamingServer server, string verb)
    {
        var request = await ConsumeAsync(context, server);
        if (request is null)
        {
            return;
        }
        if (verb == "exec" ? request is not ExecRequest : request is not AttachRequest)
        {
            await RespondAsync(context, StatusCodes.Status400BadRequest, $"token is not for {verb}");
            return;
        }
        if (WebSocketHandshake.IsWebSocketUpgrade(context))
        {
            await WebSocketRemoteCommand.ServeAsync(context, server, request, verb);
        }
        else
        {
            await SpdyRemoteCommand.ServeAsync(context, server, request, verb);
        }
    }

    private static async Task ServePortForwardAsync(HttpContext context, StreamingServer server)
    {
        var request = await ConsumeAsync(context, server);
        if (request is null)
        {
            return;
        }
        if (request is not PortForwardRequest portForward)
        {
            await RespondAsync(context, StatusCodes.Status400BadRequest, "token is not for port-forward");
            return;
        }
        if (WebSocketHandshake.IsWebSocketUpgrade(context))
        {
            await WebSocketPortForward.ServeAsync(context, server, portForward);
        }
        else
        {
            await SpdyPortForward.ServeAsync(context, server, portForward);
        }
    }

    private static async Task<Google.Protobuf.IMessage?> ConsumeAsync(HttpContext context, StreamingServer server)
    {
        var token = context.Request.RouteValues["token"] as string;
        var request = token is null ? null : server.ConsumeSession(token);
        if (request is null)
        {
            Log.UnknownToken(server.Logger);
            await RespondAsync(context, StatusCodes.Status404NotFound, "unknown, used or expired streaming token");
        }
        return request;
    }

    private static async Task RespondAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n");
    }
}
