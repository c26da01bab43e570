using CriOci.CriServer.Streaming;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using CriOci.CriServer.Telemetry;
using CriOci.ImageStore;
using CriOci.PodSandbox;

namespace CriOci.CriServer;

internal static class Program
{
    private const int ExitFailure = 1;
    private const int ExitUsage = 2;

    public static async Task<int> Main(string[] args)
    {
        if (args is ["play", .. var playArgs])
        {
            // A client of the daemon, not the daemon: its own parser and exit codes.
            return await Play.PlayCommand.RunAsync(playArgs, Console.Out, Console.Error);
        }
        if (args is ["images", .. var imagesArgs])
        {
            // Works on the store directly, with no daemon running: its own parser and exit codes.
            return await Images.ImagesCommand.RunAsync(imagesArgs, Console.Out, Console.Error);
        }
        if (args is ["health", .. var healthArgs])
        {
            return await CriHealth.RunAsync(healthArgs, Console.Out, Console.Error);
        }
        DaemonCommand command;
        try
        {
            command = DaemonCommandLine.Parse(args);
        }
        catch (DaemonConfigException ex)
        {
            await Console.Error.WriteLineAsync($"crioci: {ex.Message}");
            return ExitFailure;
        }
        if (command.Output is { } output)
        {
            await Console.Out.WriteAsync(output);
            return 0;
        }
        if (command.ShowHelp)
        {
            await Console.Out.WriteLineAsync(DaemonCommandLine.Usage);
            return 0;
        }
        if (command.Options is not { } options)
        {
            await Console.Error.WriteLineAsync($"crioci: {command.Error}\n\n{DaemonCommandLine.Usage}");
            return ExitUsage;
        }

        try
        {
            await RunAsync(options);
            return 0;
        }
        catch (DaemonConfigException ex)
        {
            await Console.Error.WriteLineAsync($"crioci: {ex.Message}");
            return ExitFailure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Directories, lock file or socket that cannot be created: the message names the path.
            await Console.Error.WriteLineAsync($"crioci: {ex.Message}");
            return ExitFailure;
        }
        catch (Core.InvalidArgumentException ex)
        {
            // A setting only a backend can judge (an images.pinned entry that is no reference):
            // its message names the key, and a stack would hide it.
            await Console.Error.WriteLineAsync($"crioci: {ex.Message}");
            return ExitFailure;
        }
        catch (Exception ex)
        {
            // A backend that fails to start (reconciling state on disk): keep the stack for the bug report.
            await Console.Error.WriteLineAsync($"crioci: failed to start: {ex}");
            return ExitFailure;
        }
    }

    /// <summary>Serves until SIGTERM/SIGINT; the host's console lifetime turns those into a graceful stop.</summary>
    private static async Task RunAsync(DaemonOptions options)
    {
        var socketGid = SocketFile.ResolveGroup(options.SocketGroup);
        DaemonDirectories.Create(options);
        using var instanceLock = InstanceLock.Acquire(options.RootDirectory, options.LockFilePath);
        Images.ImageStaging.RemoveInterrupted(options.RootDirectory);

        var builder = CriServerHost.CreateBuilder(options.SocketPath);
        builder.AddCriTelemetry(options.Telemetry);
        builder.Services.AddDaemonBackends(options);
        using var streamingListener = options.Streaming.Enabled ? Streaming.StreamingListener.Bind(options.Streaming) : null;
        if (streamingListener is not null)
        {
            builder.AddStreaming(streamingListener, options.Streaming);
        }
        await using var app = builder.Build();
        app.UseCriTelemetry(options.Telemetry);
        if (streamingListener is not null)
        {
            app.UseCriStreaming();
        }
        app.MapCriServices();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("CriOci.Daemon");

        // Build the backends before listening: their start-up (reconciling state on disk) fails
        // here, loudly, instead of on kubelet's first call.
        app.Services.GetRequiredService<ISandboxManager>();
        app.Services.GetRequiredService<IImageService>();

        if (File.Exists(options.SocketPath))
        {
            await SocketFile.RemoveStaleAsync(options.SocketPath, CancellationToken.None);
            logger.StaleSocketRemoved(options.SocketPath);
        }
        await app.StartAsync();
        try
        {
            // Kestrel creates the socket with the umask's mode; narrow it before kubelet is told to connect.
            SocketFile.SetAccess(options.SocketPath, socketGid);
            logger.DaemonListening(CriRuntimeService.DaemonVersion, options.SocketPath, options.RootDirectory, options.StateDirectory);
            await app.WaitForShutdownAsync();
        }
        finally
        {
            await app.StopAsync();
            File.Delete(options.SocketPath);
            logger.DaemonStopped();
        }
    }
}
