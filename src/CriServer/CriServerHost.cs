using CriOci.CriServer.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>
/// The gRPC half of the daemon, shared by Program and the tests so both run the same pipeline
/// (interceptor, limits, services) with only the backends differing.
/// </summary>
internal static class CriServerHost
{
    /// <summary>kubelet's CRI client sends and accepts up to 16 MiB (maxMsgSize in its remote runtime); match it.</summary>
    public const int MaxMessageSizeBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Kestrel on the unix socket only, HTTP/2 only: gRPC needs HTTP/2, and without TLS Kestrel
    /// cannot negotiate it, so HTTP/1 is switched off instead of failing requests obscurely.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string socketPath)
    {
        // None of the daemon's own args and the executable's directory as content root: the
        // daemon is configured by its own flags, never by an appsettings.json in whatever
        // directory it was started from. The host would still watch that directory for one
        // appearing (a thread and an inotify watch for the daemon's whole life): switched off.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(socketPath, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.AddServerHeader = false;
        });
        ConfigureLogging(builder.Logging);
        builder.Services.AddCriServer();
        return builder;
    }

    /// <summary>
    /// One line per event with a UTC timestamp, as node daemons log (containerd, kubelet), and
    /// ASP.NET Core's per-request lines off: kubelet polls several RPCs a second, and
    /// CriInterceptor already logs every call at Debug and every failure at Warning.
    /// </summary>
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
    }

    /// <summary>Everything but the backends (ISandboxManager, IImageService, DaemonOptions).</summary>
    public static IServiceCollection AddCriServer(this IServiceCollection services)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<CriMetrics>();
        services.AddSingleton<CriInterceptor>();
        // The daemon registers the real one first; tests without a streaming server get this.
        services.TryAddSingleton(Streaming.StreamingGateway.Off);
        services.AddCriHealth();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxMessageSizeBytes;
            grpc.MaxSendMessageSize = MaxMessageSizeBytes;
            // Domain errors become statuses in CriInterceptor; gRPC must not add exception details of its own.
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<CriInterceptor>();
        });
        return services;
    }

    public static WebApplication MapCriServices(this WebApplication app)
    {
        // The observable gauges (pods, containers) exist once CriMetrics does: create it now,
        // not on the first CRI call, so the first scrape already has them.
        app.Services.GetRequiredService<CriMetrics>();
        app.MapCriHealth();
        app.MapGrpcService<CriRuntimeService>();
        app.MapGrpcService<CriImageService>();
        return app;
    }
}
