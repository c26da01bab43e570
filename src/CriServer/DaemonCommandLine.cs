namespace CriOci.CriServer;

/// <summary>
/// Parses <c>crioci [--socket PATH] [--root DIR] [--state DIR] [--config FILE] [--runtime PATH] [--help]</c>.
/// Flags override the config file, which overrides the built-in defaults. Parsing only: no file
/// is created or locked here, so every case is testable without root.
/// </summary>
internal static class DaemonCommandLine
{
    public const string Usage = """
        Usage: crioci [options]

        The CriOci node daemon: serves the Kubernetes CRI (RuntimeService, ImageService) on a unix socket.

        Options:
          --socket PATH    CRI gRPC socket (default /run/crioci/crioci.sock)
          --root DIR       persistent data: images, pods, containers (default /var/lib/crioci)
          --state DIR      runtime state, gone at reboot (default /run/crioci)
          --runtime PATH   the crioci-runtime binary (default: crioci-runtime next to crioci)
          --config FILE    JSON file with keys socket, root, state, runtime, insecureRegistries;
                           flags given on the command line override it
          --help           print this help and exit
        """;

    /// <summary>
    /// The parse result: <see cref="DaemonCommand.Help"/>, a usage error (exit 2), or options.
    /// Throws <see cref="DaemonConfigException"/> when the --config file is unreadable or invalid.
    /// </summary>
    public static DaemonCommand Parse(IReadOnlyList<string> args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = SplitFlag(args[i]);
            switch (name)
            {
                case "--help" or "-h":
                    return DaemonCommand.Help;
                case "--socket" or "--root" or "--state" or "--config" or "--runtime":
                    var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : null);
                    if (string.IsNullOrEmpty(value))
                    {
                        return DaemonCommand.UsageError($"{name} needs a value");
                    }
                    flags[name] = value;
                    break;
                default:
                    return DaemonCommand.UsageError($"unknown argument: {args[i]}");
            }
        }

        var file = flags.TryGetValue("--config", out var configPath) ? DaemonConfigFile.Load(configPath) : new DaemonConfigFile();
        return DaemonCommand.Run(new DaemonOptions(
            SocketPath: Path.GetFullPath(flags.GetValueOrDefault("--socket") ?? file.Socket ?? DaemonOptions.DefaultSocketPath),
            RootDirectory: Path.GetFullPath(flags.GetValueOrDefault("--root") ?? file.Root ?? DaemonOptions.DefaultRootDirectory),
            StateDirectory: Path.GetFullPath(flags.GetValueOrDefault("--state") ?? file.State ?? DaemonOptions.DefaultStateDirectory),
            RuntimeExecutable: Path.GetFullPath(flags.GetValueOrDefault("--runtime") ?? file.Runtime ?? DaemonOptions.DefaultRuntimeExecutable),
            InsecureRegistries: file.InsecureRegistries ?? []));
    }

    /// <summary>Accepts both "--root DIR" and "--root=DIR", as Go's flag package (containerd, kubelet) does.</summary>
    private static (string Name, string? InlineValue) SplitFlag(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && equals > 2
            ? (arg[..equals], arg[(equals + 1)..])
            : (arg, null);
    }
}

/// <summary>What the command line asks for.</summary>
internal sealed record DaemonCommand(DaemonOptions? Options, string? Error, bool ShowHelp)
{
    public static DaemonCommand Help { get; } = new(null, null, ShowHelp: true);

    public static DaemonCommand UsageError(string message) => new(null, message, ShowHelp: false);

    public static DaemonCommand Run(DaemonOptions options) => new(options, null, ShowHelp: false);
}
