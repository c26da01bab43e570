using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CriOci.CriServer.Telemetry;

/// <summary>
/// grpc.health.v1.Health on the CRI socket (the standard gRPC health protocol, what
/// grpc_health_probe and Kubernetes' grpc probes speak), and <c>crioci health</c>, its client, which
/// the Helm chart's probes exec: Kubernetes' own grpc probe dials TCP and cannot reach a unix socket.
/// SERVING means the daemon answers on the socket, which it does only after its backends have
/// reconciled their state on disk (Program builds them before listening).
/// </summary>
internal static class CriHealth
{
    public const string Usage = """
        Usage: crioci health [--socket PATH]

        Asks the daemon on the CRI socket for its gRPC health (grpc.health.v1); exits 0 when it is SERVING.
          --socket PATH    the CRI socket (CRIOCI_SOCKET; default /run/crioci/crioci.sock)
        """;

    public static IServiceCollection AddCriHealth(this IServiceCollection services)
    {
        // With no check registered the health service answers UNKNOWN; this one is healthy
        // whenever it can run at all, i.e. once the daemon serves on its socket.
        services.AddGrpcHealthChecks().AddCheck("cri", () => HealthCheckResult.Healthy("serving CRI"));
        return services;
    }

    public static WebApplication MapCriHealth(this WebApplication app)
    {
        app.MapGrpcHealthChecksService();
        return app;
    }

    /// <summary><c>crioci health</c>: 0 when SERVING, 1 when not or unreachable, 2 for a usage error.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var socket = Environment.GetEnvironmentVariable("CRIOCI_SOCKET") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : DaemonOptions.DefaultSocketPath;
        switch (args)
        {
            case []:
                break;
            case ["--socket", var path]:
                socket = path;
                break;
            case [var arg] when arg.StartsWith("--socket=", StringComparison.Ordinal):
                socket = arg["--socket=".Length..];
                break;
            case ["--help" or "-h"]:
                await output.WriteLineAsync(Usage);
                return 0;
            default:
                await error.WriteLineAsync($"crioci health: unexpected arguments\n\n{Usage}");
                return 2;
        }
        if (!File.Exists(socket))
        {
            await error.WriteLineAsync($"crioci health: no socket at {socket}; is the daemon running?");
            return 1;
        }
        try
        {
            using var channel = Play.CriChannel.ForUnixSocket(socket);
            var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
            await output.WriteLineAsync($"{socket}: {response.Status}");
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"crioci health: {socket}: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }
}
