using System.Net;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer.Telemetry;

/// <summary>How the daemon exports its metrics, traces and logs (config keys metrics.*, otlp.*, log.*).</summary>
/// <param name="MetricsAddress">
/// "host:port" of the Prometheus scrape endpoint (HTTP/1.1, GET /metrics, plus GET /healthz), or
/// null for none. Off by default: a node may run several daemons (tests do) and an open port is
/// something an operator should choose; the Helm chart turns it on.
/// </param>
/// <param name="OtlpEndpoint">OTLP collector base URL; null falls back to OTEL_EXPORTER_OTLP_ENDPOINT, and without either OTLP is off.</param>
/// <param name="OtlpProtocol">"grpc" (port 4317) or "http/protobuf" (port 4318), as OTEL_EXPORTER_OTLP_PROTOCOL.</param>
/// <param name="ServiceName">The service.name resource attribute.</param>
/// <param name="RuntimeMetrics">Export the .NET runtime (System.Runtime) and process metrics too.</param>
/// <param name="LogLevel">Minimum level of the daemon's own log lines.</param>
/// <param name="LogFormat">"text" (one line per event) or "json" (one JSON object per line, for journald and log shippers).</param>
internal sealed record TelemetryOptions(
    string? MetricsAddress = null,
    string? OtlpEndpoint = null,
    string OtlpProtocol = TelemetryOptions.DefaultOtlpProtocol,
    string ServiceName = TelemetryOptions.DefaultServiceName,
    bool RuntimeMetrics = true,
    LogLevel LogLevel = LogLevel.Information,
    string LogFormat = TelemetryOptions.DefaultLogFormat)
{
    public const string DefaultOtlpProtocol = "grpc";
    public const string DefaultServiceName = "crioci";
    public const string DefaultLogFormat = "text";
    public const string MetricsPath = "/metrics";
    public const string HealthPath = "/healthz";

    public static TelemetryOptions Default { get; } = new();

    /// <summary>The scrape endpoint's socket address, or null when metrics are off.</summary>
    public IPEndPoint? GetMetricsEndPoint() => string.IsNullOrEmpty(MetricsAddress) ? null : ParseEndPoint(MetricsAddress);

    /// <summary>"127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464" or ":9464" (every address). Host names are refused: a daemon binds addresses.</summary>
    public static IPEndPoint ParseEndPoint(string address)
    {
        if (address.StartsWith(':') && int.TryParse(address.AsSpan(1), out var anyPort) && anyPort is >= 0 and <= 65535)
        {
            return new IPEndPoint(IPAddress.Any, anyPort);
        }
        // IPv6 needs brackets ("[::1]:9464"): in "::1" no port can be told apart from the address.
        var hasPort = address.StartsWith('[')
            ? address.Contains("]:", StringComparison.Ordinal)
            : address.Count(c => c == ':') == 1;
        if (hasPort && IPEndPoint.TryParse(address, out var endPoint))
        {
            return endPoint;
        }
        throw new FormatException($"\"{address}\" is not an IP address and port such as 127.0.0.1:9464");
    }

    /// <summary>An OTLP endpoint is an http(s) URL; "collector:4317" would parse as a URI with scheme "collector".</summary>
    public static bool IsValidOtlpEndpoint(string endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    public static bool IsKnownOtlpProtocol(string protocol) => protocol is "grpc" or "http/protobuf";

    public static bool IsKnownLogFormat(string format) => format is "text" or "json";
}
