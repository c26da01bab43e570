using System.Net.Sockets;
using Grpc.Net.Client;

namespace CriOci.Play;

/// <summary>
/// A gRPC channel to a CRI server on a unix socket, as crictl and kubelet connect. Every CRI
/// client in this repository (play, the benchmark, the tests) uses it.
/// </summary>
public static class CriChannel
{
    /// <summary>The daemon's server limit, so large list answers are not refused by the client.</summary>
    public const int MaxMessageSize = 16 * 1024 * 1024;

    public static GrpcChannel ForUnixSocket(string socketPath) =>
        GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
            MaxReceiveMessageSize = MaxMessageSize,
        });
}
