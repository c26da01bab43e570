using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.Play;

/// <summary><c>crioci play [--down] [--socket PATH] [--log-root DIR] POD.yaml</c>: parses, connects, plays.</summary>
public static class PlayCommand
{
    public const string Usage = """
        Usage: crioci play [--down] [--socket PATH] [--log-root DIR] POD.yaml

        Runs a Kubernetes Pod manifest on this node through the CRI socket, as kubelet would:
        pulls the images, creates the pod sandbox, runs the init containers in order (each must
        exit 0), then starts the containers. --down stops and removes the pod again.

          --socket PATH    the CRI socket (CRIOCI_SOCKET; default /run/crioci/crioci.sock)
          --log-root DIR   where container logs go (default /var/log/pods)
          --down           remove the pod the manifest names instead of running it
        """;

    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var socket = Environment.GetEnvironmentVariable("CRIOCI_SOCKET") is { Length: > 0 } fromEnvironment ? fromEnvironment : "/run/crioci/crioci.sock";
        var logRoot = "/var/log/pods";
        var down = false;
        string? manifest = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    await output.WriteLineAsync(Usage);
                    return 0;
                case "--down":
                    down = true;
                    break;
                case "--socket" or "--log-root" when i + 1 < args.Count:
                    (args[i] == "--socket" ? ref socket : ref logRoot) = args[++i];
                    break;
                case var arg when arg.StartsWith("--socket=", StringComparison.Ordinal):
                    socket = arg["--socket=".Length..];
                    break;
                case var arg when arg.StartsWith("--log-root=", StringComparison.Ordinal):
                    logRoot = arg["--log-root=".Length..];
                    break;
                case var arg when !arg.StartsWith('-') && manifest is null:
                    manifest = arg;
                    break;
                default:
                    await error.WriteLineAsync($"crioci play: unexpected argument {args[i]}\n\n{Usage}");
                    return ExitUsage;
            }
        }
        if (manifest is null)
        {
            await error.WriteLineAsync($"crioci play: which manifest?\n\n{Usage}");
            return ExitUsage;
        }

        try
        {
            var pod = PodManifest.Load(manifest);
            if (!File.Exists(socket))
            {
                throw new PlayException($"no socket at {socket}; is the daemon running? (--socket or CRIOCI_SOCKET)");
            }
            using var channel = CriChannel.ForUnixSocket(socket);
            var player = new PodPlayer(new RuntimeService.RuntimeServiceClient(channel), new ImageService.ImageServiceClient(channel), output)
            {
                PodLogRoot = Path.GetFullPath(logRoot),
            };
            if (down)
            {
                await player.DownAsync(pod, cancellationToken);
            }
            else
            {
                await player.UpAsync(pod, cancellationToken);
            }
            return 0;
        }
        catch (PlayException ex)
        {
            await error.WriteLineAsync($"crioci play: {ex.Message}");
            return ExitFailure;
        }
        catch (RpcException ex)
        {
            await error.WriteLineAsync($"crioci play: {socket}: {ex.StatusCode}: {ex.Status.Detail}");
            return ExitFailure;
        }
    }
}
