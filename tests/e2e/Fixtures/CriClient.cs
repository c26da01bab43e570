using CriOci.Cri.V1;
using CriOci.Play;
using Grpc.Net.Client;

namespace CriOci.E2E.Fixtures;

/// <summary>A CRI client over a unix socket, generated from the same proto the daemon serves.</summary>
public sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public CriClient(string socketPath)
    {
        _channel = CriChannel.ForUnixSocket(socketPath);
        Runtime = new RuntimeService.RuntimeServiceClient(_channel);
        Images = new ImageService.ImageServiceClient(_channel);
    }

    public RuntimeService.RuntimeServiceClient Runtime { get; }

    public ImageService.ImageServiceClient Images { get; }

    public void Dispose() => _channel.Dispose();
}
