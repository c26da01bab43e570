using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace CriOci.CriServer.Streaming;

/// <summary>
/// The streaming server's TCP listener inside the daemon's Kestrel. The socket is bound here,
/// before Kestrel starts, so the URL handed to kubelet carries the real port even when the
/// configuration asked for port 0. Connections are tagged so the middleware can tell streaming
/// requests from CRI (unix socket) and metrics ones.
/// </summary>
internal sealed class StreamingListener : IDisposable
{
    private const string ListenerKey = "crioci.listener";
    private const string ListenerName = "streaming";
    private readonly Socket _socket;

    private StreamingListener(Socket socket, Uri baseUrl)
    {
        _socket = socket;
        BaseUrl = baseUrl;
    }

    /// <summary>Where the session URLs point: the bound address, or loopback when bound to every address.</summary>
    public Uri BaseUrl { get; }

    public static StreamingListener Bind(StreamingListenerOptions options)
    {
        var endPoint = options.GetEndPoint();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var bound = (IPEndPoint)socket.LocalEndPoint!;
        var host = bound.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : bound.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : bound.Address;
        var scheme = options.UsesTls ? "https" : "http";
        return new StreamingListener(socket, new Uri($"{scheme}://{new IPEndPoint(host, bound.Port)}/"));
    }

    /// <summary>Hands the bound socket to Kestrel: HTTP/1.1 only (SPDY and WebSocket upgrade from it).</summary>
    public void Configure(KestrelServerOptions kestrel, StreamingListenerOptions options)
    {
        kestrel.ListenHandle((ulong)_socket.Handle, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                connection.Items[ListenerKey] = ListenerName;
                return next(connection);
            });
            if (options.UsesTls)
            {
                listen.UseHttps(X509Certificate2.CreateFromPemFile(options.TlsCertificateFile!, options.TlsKeyFile));
            }
        });
    }

    public static bool IsStreamingConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerKey, out var name) == true && (string?)name == ListenerName;

    public void Dispose() => _socket.Dispose();
}
