using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CriOci.CriServer.Telemetry;

/// <summary>
/// Wires the "CriOci" Meter and ActivitySource (<see cref="CriMetrics"/>) to OpenTelemetry
/// exporters: a Prometheus scrape endpoint on its own TCP listener (HTTP/1.1; the CRI unix
/// socket stays HTTP/2-only and serves nothing else) and OTLP for metrics, traces and logs.
/// With neither configured, no OpenTelemetry SDK is registered at all.
/// </summary>
internal static class CriTelemetry
{
    /// <summary>The standard variable the OTLP exporter reads when the config names no endpoint.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Call after <see cref="CriServerHost.CreateBuilder"/>: adds the metrics listener, exporters and log format.</summary>
    public static WebApplicationBuilder AddCriTelemetry(this WebApplicationBuilder builder, TelemetryOptions options, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        ConfigureLogging(builder.Logging, options);

        var metricsEndPoint = options.GetMetricsEndPoint();
        if (metricsEndPoint is not null)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(metricsEndPoint, listen => listen.Protocols = HttpProtocols.Http1));
        }
        var otlpEndpoint = NonEmpty(options.OtlpEndpoint) ?? NonEmpty(environment(OtlpEndpointVariable));
        if (metricsEndPoint is null && otlpEndpoint is null)
        {
            return builder;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName, serviceVersion: CriRuntimeService.DaemonVersion))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(CriMetrics.Name);
                if (options.RuntimeMetrics)
                {
                    metrics.AddRuntimeInstrumentation().AddProcessInstrumentation();
                }
                if (metricsEndPoint is not null)
                {
                    metrics.AddPrometheusExporter();
                }
            })
            .WithTracing(tracing => tracing.AddSource(CriMetrics.Name));
        if (otlpEndpoint is not null)
        {
            // UseOtlpExporter appends /v1/{traces,metrics,logs} to the base URL for http/protobuf,
            // as OTEL_EXPORTER_OTLP_ENDPOINT means; it also turns on OTLP logs.
            telemetry.UseOtlpExporter(ToProtocol(options.OtlpProtocol), new Uri(otlpEndpoint));
        }
        return builder;
    }

    /// <summary>Serves GET /metrics and GET /healthz on the metrics listener and nothing else there.</summary>
    public static WebApplication UseCriTelemetry(this WebApplication app, TelemetryOptions options)
    {
        if (options.GetMetricsEndPoint() is null)
        {
            return app;
        }
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            IsMetricsConnection(context) && context.Request.Path == TelemetryOptions.MetricsPath);
        app.Use((context, next) =>
        {
            if (!IsMetricsConnection(context))
            {
                return next(context);
            }
            if (context.Request.Path == TelemetryOptions.HealthPath)
            {
                // Answered by the same Kestrel that serves CRI: if this answers, the daemon is up
                // and its backends started (Program builds them before listening).
                context.Response.ContentType = "text/plain";
                return context.Response.WriteAsync("ok\n");
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }

    /// <summary>The CRI socket is a unix endpoint; of the TCP listeners, the streaming one is tagged.</summary>
    private static bool IsMetricsConnection(HttpContext context) =>
        context.Connection.LocalIpAddress is not null && !Streaming.StreamingListener.IsStreamingConnection(context);

    private static OtlpExportProtocol ToProtocol(string protocol) =>
        protocol == "http/protobuf" ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static void ConfigureLogging(ILoggingBuilder logging, TelemetryOptions options)
    {
        logging.SetMinimumLevel(options.LogLevel);
        if (options.LogFormat == "json")
        {
            // One JSON object per line: journald keeps it as MESSAGE, log shippers parse it as is.
            logging.ClearProviders();
            logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.IncludeScopes = true;
            });
        }
    }
}
