using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>
/// Every log line of the daemon. EventIds are stable: people alert and grep on them, so never
/// renumber one; add new ones at the end of their block. Requests themselves are never logged:
/// PullImage carries registry credentials.
/// </summary>
internal static partial class Log
{
    // 1-99: the CRI call pipeline (CriInterceptor).
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Method} started")]
    public static partial void RpcStarted(this ILogger logger, string method);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "{Method} finished in {DurationMs:F1} ms")]
    public static partial void RpcFinished(this ILogger logger, string method, double durationMs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Method} failed with {StatusCode}: {Detail}")]
    public static partial void RpcFailed(this ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "{Method} failed unexpectedly")]
    public static partial void RpcFailedUnexpectedly(this ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "{Method} cancelled by the caller")]
    public static partial void RpcCancelled(this ILogger logger, string method);

    // 100-199: daemon lifecycle (Program).
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "crioci {Version} serving CRI on {SocketPath} (root {RootDirectory}, state {StateDirectory})")]
    public static partial void DaemonListening(this ILogger logger, string version, string socketPath, string rootDirectory, string stateDirectory);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Removed stale socket {SocketPath}")]
    public static partial void StaleSocketRemoved(this ILogger logger, string socketPath);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "crioci stopped; running containers are left to their monitors")]
    public static partial void DaemonStopped(this ILogger logger);

    // 200-299: handlers.
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "UpdateRuntimeConfig: pod CIDR {PodCidr} noted; it takes effect once CNI networking is implemented")]
    public static partial void PodCidrReceived(this ILogger logger, string podCidr);
}
