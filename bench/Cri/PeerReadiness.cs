using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.Bench.Cri;

/// <summary>Waits until a freshly started peer answers Version on its socket.</summary>
public static class PeerReadiness
{
    public static async Task WaitAsync(CriPeer peer, Func<bool> exited, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (exited())
            {
                throw new InvalidOperationException($"{peer.Name} exited during start; see {peer.LogPath}");
            }
            try
            {
                await peer.Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken);
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }
}
