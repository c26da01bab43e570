using CriOci.PodSandbox;
using CriOci.Streaming;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer.Streaming;

/// <summary>Puts the streaming server into the daemon's host: its listener, its services, its routes.</summary>
internal static class StreamingHost
{
    public static WebApplicationBuilder AddStreaming(this WebApplicationBuilder builder, StreamingListener listener, StreamingListenerOptions options)
    {
        builder.WebHost.ConfigureKestrel(kestrel => listener.Configure(kestrel, options));
        builder.Services.AddSingleton(provider => new StreamingServer(
            new StreamingOptions(listener.BaseUrl),
            new StreamingBackend(provider.GetRequiredService<ISandboxManager>()),
            provider.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(provider => new StreamingGateway(provider.GetRequiredService<StreamingServer>()));
        return builder;
    }

    /// <summary>
    /// The streaming routes answer on the streaming listener only: the CRI socket carries gRPC
    /// and nothing else, and the metrics listener only metrics.
    /// </summary>
    public static WebApplication UseCriStreaming(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (StreamingListener.IsStreamingConnection(context) == IsStreamingPath(context.Request.Path))
            {
                return next(context);
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        app.UseWebSockets();
        app.MapStreaming(app.Services.GetRequiredService<StreamingServer>());
        return app;
    }

    private static bool IsStreamingPath(PathString path) =>
        path.StartsWithSegments("/exec") || path.StartsWithSegments("/attach") || path.StartsWithSegments("/portforward");
}
