namespace CriOci.Streaming;

/// <summary>
/// Where the streaming server is reachable and how long a registered session waits for its
/// client. kubelet's own streaming server keeps a token for one minute
/// (pkg/kubelet/cri/streaming/request_cache.go, CacheTTL) and at most 1000 of them in flight.
/// </summary>
public sealed record StreamingOptions(Uri BaseUrl, TimeSpan TokenLifetime)
{
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromMinutes(1);

    public StreamingOptions(Uri baseUrl) : this(baseUrl, DefaultTokenLifetime) { }

    /// <summary>Sessions registered but not yet used; the next Register* beyond it fails.</summary>
    public int MaxInFlightSessions { get; init; } = 1000;

    /// <summary>How long the client has to open every stream it asked for (kubelet: 30 s).</summary>
    public TimeSpan StreamCreationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a closing connection waits for the client to hang up before the server does.</summary>
    public TimeSpan CloseGracePeriod { get; init; } = TimeSpan.FromSeconds(5);
}
