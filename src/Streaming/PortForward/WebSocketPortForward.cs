using System.Buffers.Binary;
using System.Text;
using CriOci.Cri.V1;
using CriOci.Streaming.WebSockets;
using Microsoft.AspNetCore.Http;

namespace CriOci.Streaming.PortForward;

/// <summary>
/// Port forwarding over WebSocket (kubelet's portforward/websocket.go): the ports come with the
/// request (query "port", or "ports" as @kubernetes/client-node sends it; otherwise the ports
/// registered with the CRI call); port i uses channel 2i for data and 2i+1 for errors, and the
/// first message on each of them is the port, two bytes little-endian.
/// </summary>
internal static class WebSocketPortForward
{
    private static readonly string[] Protocols = [PortForwardProtocol.WebSocketV4, PortForwardProtocol.WebSocketV4Base64];

    public static async Task ServeAsync(HttpContext context, StreamingServer server, PortForwardRequest request)
    {
        var ports = PortsOf(context, request, out var problem);
        if (problem is not null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(problem + "\n");
            return;
        }
        var accepted = await WebSocketHandshake.TryAcceptAsync(context, Protocols, allowNoProtocol: true, server.Logger);
        if (accepted is not var (socket, protocol))
        {
            return;
        }
        using var _ = socket;
        var dataChannels = Enumerable.Range(0, ports.Count).Select(i => (byte)(2 * i));
        var channels = new WebSocketChannels(socket, base64: protocol == PortForwardProtocol.WebSocketV4Base64, closeSignal: false, dataChannels, server.Logger);
        channels.Start();
        Log.SessionStarted(server.Logger, "port-forward", request.PodSandboxId, "WebSocket " + (protocol.Length == 0 ? "channel.k8s.io" : protocol));
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(channels.Closed, context.RequestAborted);

        var forwards = new List<Task>();
        try
        {
            for (var i = 0; i < ports.Count; i++)
            {
                var data = channels.Open((byte)(2 * i));
                var error = channels.Open((byte)(2 * i + 1));
                var portBytes = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(portBytes, (ushort)ports[i]);
                await data.WriteAsync(portBytes, lifetime.Token);
                await error.WriteAsync(portBytes, lifetime.Token);
                forwards.Add(ForwardAsync(server, request.PodSandboxId, ports[i], data, error, lifetime.Token));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        await Task.WhenAll(forwards);
        await channels.CloseAsync(server.Options.CloseGracePeriod);
    }

    private static async Task ForwardAsync(StreamingServer server, string podSandboxId, int port, WebSocketChannelStream data, WebSocketChannelStream error, CancellationToken cancellationToken)
    {
        try
        {
            await server.Runtime.PortForwardAsync(podSandboxId, port, data, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Any failure of this port belongs on its error channel, not to the session.
            Log.PortForwardFailed(server.Logger, port, podSandboxId, e.Message);
            try
            {
                await error.WriteAsync(Encoding.UTF8.GetBytes(PortForwardProtocol.ForwardingError(port, podSandboxId, e.Message)), cancellationToken);
            }
            catch (Exception writeError) when (writeError is IOException or OperationCanceledException)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static List<int> PortsOf(HttpContext context, PortForwardRequest request, out string? problem)
    {
        problem = null;
        var ports = new List<int>();
        var query = context.Request.Query;
        foreach (var value in query[PortForwardProtocol.PortHeader].Concat(query["ports"]))
        {
            foreach (var text in (value ?? "").Split(','))
            {
                if (!PortForwardProtocol.TryParsePort(text.Trim(), out var port))
                {
                    problem = $"invalid port {text}";
                    return ports;
                }
                ports.Add(port);
            }
        }
        if (ports.Count == 0)
        {
            ports.AddRange(request.Port);
        }
        if (ports.Count == 0)
        {
            problem = $"query parameter \"{PortForwardProtocol.PortHeader}\" is required";
        }
        else if (ports.Count > 127)
        {
            // Two channels per port in one byte of channel number.
            problem = "at most 127 ports can be forwarded over one WebSocket";
        }
        return ports;
    }
}
