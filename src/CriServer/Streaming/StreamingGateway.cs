using CriOci.Core;
using CriOci.Streaming;

namespace CriOci.CriServer.Streaming;

/// <summary>
/// The CRI side's handle on the streaming server, which the configuration may switch off
/// (an empty streaming address): then Exec, Attach and PortForward say so instead of handing
/// out URLs nobody serves.
/// </summary>
internal sealed class StreamingGateway(StreamingServer? server)
{
    public static StreamingGateway Off { get; } = new(null);

    public StreamingServer Server => server
        ?? throw new UnavailableException("the streaming server is off (streaming address is empty in the daemon's configuration)");
}
