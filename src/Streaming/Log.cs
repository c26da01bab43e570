using Microsoft.Extensions.Logging;

namespace CriOci.Streaming;

/// <summary>
/// Log lines of the streaming server. EventIds are stable (range 400-499 for streaming); add
/// new ones at the end. Commands and stream contents are never logged: they may carry secrets.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Streaming {Verb} for {Target} over {Protocol}")]
    public static partial void SessionStarted(ILogger logger, string verb, string target, string protocol);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Streaming request with an unknown, used or expired token refused")]
    public static partial void UnknownToken(ILogger logger);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Streaming handshake refused: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug, Message = "SPDY connection ended: {Reason}")]
    public static partial void SpdyConnectionFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Streaming {Verb} for {Target} failed: {Reason}")]
    public static partial void SessionFailed(ILogger logger, string verb, string target, string reason);

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning, Message = "Client did not open the streams it asked for within {TimeoutSeconds} s")]
    public static partial void StreamCreationTimedOut(ILogger logger, double timeoutSeconds);

    [LoggerMessage(EventId = 406, Level = LogLevel.Information, Message = "Port forward to port {Port} of pod {PodSandboxId} failed: {Reason}")]
    public static partial void PortForwardFailed(ILogger logger, int port, string podSandboxId, string reason);
}
