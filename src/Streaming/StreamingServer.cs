using CriOci.Streaming.Sessions;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using CriOci.Cri.V1;

namespace CriOci.Streaming;

/// <summary>
/// Registers exec, attach and port-forward sessions for the CRI calls and serves them when the
/// client comes back with the URL (see <see cref="StreamingEndpoints"/>).
/// </summary>
public sealed class StreamingServer
{
    private readonly SessionCache _sessions;

    public StreamingServer(StreamingOptions options, IStreamingRuntime runtime, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options.BaseUrl);
        if (options.TokenLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "TokenLifetime must be positive");
        }
        Options = options;
        Runtime = runtime;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StreamingServer>();
        _sessions = new SessionCache(timeProvider ?? TimeProvider.System, options.TokenLifetime, options.MaxInFlightSessions);
    }

    public StreamingOptions Options { get; }

    internal IStreamingRuntime Runtime { get; }

    internal ILogger Logger { get; }

    /// <summary>Sessions registered and neither used nor dropped yet.</summary>
    public int PendingSessionCount => _sessions.Count;

    public ExecResponse RegisterExec(ExecRequest request)
    {
        StreamingRequestValidator.Validate(request);
        return new ExecResponse { Url = UrlFor("exec", request.Clone()) };
    }

    public AttachResponse RegisterAttach(AttachRequest request)
    {
        StreamingRequestValidator.Validate(request);
        return new AttachResponse { Url = UrlFor("attach", request.Clone()) };
    }

    public PortForwardResponse RegisterPortForward(PortForwardRequest request)
    {
        StreamingRequestValidator.Validate(request);
        return new PortForwardResponse { Url = UrlFor("portforward", request.Clone()) };
    }

    /// <summary>The request registered under <paramref name="token"/>; null when unknown, used or expired.</summary>
    internal IMessage? ConsumeSession(string token) => _sessions.Consume(token);

    private string UrlFor(string verb, IMessage request)
    {
        var token = _sessions.Add(request);
        // An absolute path, as kubelet's baseURL.ResolveReference(&url.URL{Path: "/exec/" + token}).
        return new Uri(Options.BaseUrl, $"/{verb}/{token}").ToString();
    }
}
