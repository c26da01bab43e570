using CriOci.Cri.V1;
using CriOci.CriServer.Telemetry;
using CriOci.CriServer.Tests.Fakes;
using CriOci.ImageStore;
using CriOci.Play;
using CriOci.PodSandbox;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer.Tests;

/// <summary>
/// The daemon's real gRPC pipeline (CriServerHost) on a temporary unix socket, with fakes behind
/// it, and clients connected over that socket as kubelet would be.
/// </summary>
internal sealed class CriTestServer : IAsyncDisposable
{
    private readonly string directory;
    private readonly WebApplication app;
    private readonly GrpcChannel channel;

    private CriTestServer(string directory, WebApplication app, GrpcChannel channel, FakeSandboxManager sandboxes, FakeImageService images)
    {
        this.directory = directory;
        this.app = app;
        this.channel = channel;
        Sandboxes = sandboxes;
        Images = images;
        Runtime = new RuntimeService.RuntimeServiceClient(channel);
        ImageClient = new ImageService.ImageServiceClient(channel);
    }

    public FakeSandboxManager Sandboxes { get; }

    public FakeImageService Images { get; }

    public RuntimeService.RuntimeServiceClient Runtime { get; }

    public ImageService.ImageServiceClient ImageClient { get; }

    public IServiceProvider Services => app.Services;

    public string SocketPath => Path.Combine(directory, "crioci.sock");

    /// <summary>The daemon options the server was built with (root and state under a temp directory).</summary>
    public DaemonOptions DaemonOptions => Options(directory);

    public static DaemonOptions Options(string root) =>
        new($"{root}/crioci.sock", root, $"{root}/state", "/usr/bin/crioci-runtime", ["registry.local:5000"]);

    /// <param name="telemetry">When given, the daemon's telemetry set-up (exporters, metrics listener) runs too.</param>
    public static async Task<CriTestServer> StartAsync(Telemetry.TelemetryOptions? telemetry = null)
    {
        var directory = Directory.CreateTempSubdirectory("crioci-cri-").FullName;
        var socketPath = Path.Combine(directory, "crioci.sock");
        var sandboxes = new FakeSandboxManager();
        var images = new FakeImageService();

        var builder = CriServerHost.CreateBuilder(socketPath);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Options(directory));
        builder.Services.AddSingleton<ISandboxManager>(sandboxes);
        builder.Services.AddSingleton<IImageService>(images);
        if (telemetry is not null)
        {
            builder.AddCriTelemetry(telemetry, _ => null);
        }
        var app = builder.Build();
        if (telemetry is not null)
        {
            app.UseCriTelemetry(telemetry);
        }
        app.MapCriServices();
        await app.StartAsync();

        var channel = CriChannel.ForUnixSocket(socketPath);
        return new CriTestServer(directory, app, channel, sandboxes, images);
    }

    public async ValueTask DisposeAsync()
    {
        channel.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}
