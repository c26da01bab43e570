using CriOci.Cri.V1;
using Grpc.Net.Client;

namespace CriOci.Bench.Cri;

/// <summary>
/// One CRI runtime under test, started by the benchmark on its own temporary socket and
/// directories: its client, its daemon process and the helper processes it keeps per container.
/// </summary>
public abstract class CriPeer(string name, GrpcChannel channel) : IAsyncDisposable
{
    public string Name { get; } = name;

    public RuntimeService.RuntimeServiceClient Runtime { get; } = new(channel);

    public ImageService.ImageServiceClient Images { get; } = new(channel);

    public abstract int DaemonPid { get; }

    /// <summary>Where the peer's own log is, for a failure message.</summary>
    public abstract string LogPath { get; }

    /// <summary>The long-lived processes the peer starts beside its containers (monitors, shims).</summary>
    public abstract IReadOnlyList<int> HelperPids();

    protected GrpcChannel Channel { get; } = channel;

    public abstract ValueTask DisposeAsync();
}
