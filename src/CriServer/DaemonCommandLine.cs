using CriOci.CriServer.Telemetry;

namespace CriOci.CriServer;

/// <summary>
/// Parses <c>crioci [options]</c> and <c>crioci config default</c>. Precedence, highest first:
/// flags, CRIOCI_* environment variables, the config file, built-in defaults. Parsing only: no
/// file is created or locked here, so every case is testable without root.
/// </summary>
internal static class DaemonCommandLine
{
    public const string Usage = """
        Usage: crioci [options]
               crioci config default     print the config file with every key at its default
               crioci images import [--name REPO] LAYOUT | export IMAGE TARGET
                                         load or save OCI image layouts (dir or .tar); the daemon must be stopped
               crioci health [--socket PATH]
                                         exit 0 if the daemon's gRPC health (grpc.health.v1) is SERVING
               crioci play [--down] [--socket PATH] POD.yaml
                                         run (or remove) a Kubernetes Pod manifest through the CRI socket

        The CriOci node daemon: serves the Kubernetes CRI (RuntimeService, ImageService) on a unix socket.

        Options (each also read from the environment variable shown; flags win):
          --socket PATH            CRI gRPC socket (CRIOCI_SOCKET; default /run/crioci/crioci.sock)
          --socket-group GROUP     group of the socket, name or gid; mode 0660 (CRIOCI_SOCKET_GROUP; default root)
          --root DIR               persistent data: images, pods, containers (CRIOCI_ROOT; default /var/lib/crioci)
          --state DIR              runtime state, gone at reboot (CRIOCI_STATE; default /run/crioci)
          --runtime PATH           the crioci-runtime binary (CRIOCI_RUNTIME; default: next to crioci)
          --config FILE            JSON config file, see `crioci config default` (CRIOCI_CONFIG)
          --metrics-address ADDR   Prometheus endpoint ip:port, "" for off (CRIOCI_METRICS_ADDRESS; default off)
          --otlp-endpoint URL      OTLP collector (CRIOCI_OTLP_ENDPOINT; default OTEL_EXPORTER_OTLP_ENDPOINT, else off)
          --log-level LEVEL        trace|debug|information|warning|error (CRIOCI_LOG_LEVEL; default information)
          --log-format FORMAT      text|json (CRIOCI_LOG_FORMAT; default text)
          --cni-conf-dir DIR       CNI network configs; none there means the built-in bridge
                                   (CRIOCI_CNI_CONF_DIR; default /etc/cni/net.d)
          --cni-bin-dir DIRS       CNI plugin directories, ':'-separated (CRIOCI_CNI_BIN_DIR;
                                   default /usr/lib/cni:/opt/cni/bin)
          --cni-native-bridge BOOL the built-in network's bridge step in the daemon (true) or by the
                                   bridge and host-local plugins (false) (CRIOCI_CNI_NATIVE_BRIDGE; default true)
          --registry-config-dir DIR  hosts.toml directory: mirrors, plain HTTP, certificates
                                   (CRIOCI_REGISTRY_CONFIG_DIR; default /etc/crioci/certs.d)
          --registry-auth-file FILE  Docker config.json credentials (CRIOCI_REGISTRY_AUTH_FILE;
                                   default /etc/crioci/auth.json)
          --streaming-address ADDR exec/attach/port-forward server ip:port, port 0 for any free one,
                                   "" for off (CRIOCI_STREAMING_ADDRESS; default 127.0.0.1:0)
          --streaming-tls-cert FILE, --streaming-tls-key FILE
                                   PEM certificate and key: serve streaming over HTTPS
                                   (CRIOCI_STREAMING_TLS_CERT, CRIOCI_STREAMING_TLS_KEY)
          --help                   print this help and exit
        """;

    /// <summary>Flags that take a value, and the environment variable each one falls back to.</summary>
    private static readonly Dictionary<string, string> ValueFlags = new(StringComparer.Ordinal)
    {
        ["--socket"] = "CRIOCI_SOCKET",
        ["--socket-group"] = "CRIOCI_SOCKET_GROUP",
        ["--root"] = "CRIOCI_ROOT",
        ["--state"] = "CRIOCI_STATE",
        ["--config"] = "CRIOCI_CONFIG",
        ["--runtime"] = "CRIOCI_RUNTIME",
        ["--metrics-address"] = "CRIOCI_METRICS_ADDRESS",
        ["--otlp-endpoint"] = "CRIOCI_OTLP_ENDPOINT",
        ["--log-level"] = "CRIOCI_LOG_LEVEL",
        ["--log-format"] = "CRIOCI_LOG_FORMAT",
        ["--cni-conf-dir"] = "CRIOCI_CNI_CONF_DIR",
        ["--cni-bin-dir"] = "CRIOCI_CNI_BIN_DIR",
        ["--cni-native-bridge"] = "CRIOCI_CNI_NATIVE_BRIDGE",
        ["--registry-config-dir"] = "CRIOCI_REGISTRY_CONFIG_DIR",
        ["--registry-auth-file"] = "CRIOCI_REGISTRY_AUTH_FILE",
        ["--streaming-address"] = "CRIOCI_STREAMING_ADDRESS",
        ["--streaming-tls-cert"] = "CRIOCI_STREAMING_TLS_CERT",
        ["--streaming-tls-key"] = "CRIOCI_STREAMING_TLS_KEY",
    };

    /// <summary>Flags that may be given an empty value ("--metrics-address=" turns metrics off).</summary>
    private static readonly HashSet<string> EmptyAllowed = new(StringComparer.Ordinal) { "--metrics-address", "--otlp-endpoint", "--streaming-address" };

    /// <summary>
    /// The parse result: <see cref="DaemonCommand.Help"/>, text to print, a usage error (exit 2),
    /// or options. Throws <see cref="DaemonConfigException"/> when the --config file is unreadable
    /// or invalid. <paramref name="environment"/> defaults to the process environment.
    /// </summary>
    public static DaemonCommand Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (args.Count > 0 && args[0] == "config")
        {
            return args is [_, "default"]
                ? DaemonCommand.Print(DaemonConfigFile.DefaultJson())
                : DaemonCommand.UsageError("usage: crioci config default");
        }

        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = SplitFlag(args[i]);
            if (name is "--help" or "-h")
            {
                return DaemonCommand.Help;
            }
            if (!ValueFlags.ContainsKey(name))
            {
                return DaemonCommand.UsageError($"unknown argument: {args[i]}");
            }
            var value = inlineValue ?? (i + 1 < args.Count ? args[++i] : null);
            if (value is null || (value.Length == 0 && !EmptyAllowed.Contains(name)))
            {
                return DaemonCommand.UsageError($"{name} needs a value");
            }
            flags[name] = value;
        }
        foreach (var (flag, variable) in ValueFlags)
        {
            if (!flags.ContainsKey(flag) && environment(variable) is { } fromEnvironment
                && (fromEnvironment.Length > 0 || EmptyAllowed.Contains(flag)))
            {
                flags[flag] = fromEnvironment;
            }
        }

        var file = flags.TryGetValue("--config", out var configPath) ? DaemonConfigFile.Load(configPath) : new DaemonConfigFile();
        return DaemonCommand.Run(new DaemonOptions(
            SocketPath: Path.GetFullPath(flags.GetValueOrDefault("--socket") ?? file.Socket ?? DaemonOptions.DefaultSocketPath),
            RootDirectory: Path.GetFullPath(flags.GetValueOrDefault("--root") ?? file.Root ?? DaemonOptions.DefaultRootDirectory),
            StateDirectory: Path.GetFullPath(flags.GetValueOrDefault("--state") ?? file.State ?? DaemonOptions.DefaultStateDirectory),
            RuntimeExecutable: Path.GetFullPath(flags.GetValueOrDefault("--runtime") ?? file.Runtime ?? DaemonOptions.DefaultRuntimeExecutable),
            InsecureRegistries: file.InsecureRegistries ?? [])
        {
            SocketGroup = flags.GetValueOrDefault("--socket-group") ?? file.SocketGroup,
            Telemetry = TelemetryFrom(flags, file),
            Cni = CniFrom(flags, file),
            RegistryConfigDirectory = Path.GetFullPath(flags.GetValueOrDefault("--registry-config-dir") ?? file.Registries?.ConfigDir ?? DaemonOptions.DefaultRegistryConfigDirectory),
            RegistryAuthFile = Path.GetFullPath(flags.GetValueOrDefault("--registry-auth-file") ?? file.Registries?.AuthFile ?? DaemonOptions.DefaultRegistryAuthFile),
            Streaming = StreamingFrom(flags, file),
            RuntimeHandlers = file.HandlerOptions(environment("PATH")),
            PinnedImages = file.Images?.Pinned ?? [],
        });
    }

    private static Streaming.StreamingListenerOptions StreamingFrom(Dictionary<string, string> flags, DaemonConfigFile file)
    {
        var certificate = flags.GetValueOrDefault("--streaming-tls-cert") ?? file.Streaming?.TlsCertFile;
        var key = flags.GetValueOrDefault("--streaming-tls-key") ?? file.Streaming?.TlsKeyFile;
        return Streaming.StreamingListenerOptions.Validate(
            flags.GetValueOrDefault("--streaming-address") ?? file.Streaming?.Address ?? Streaming.StreamingListenerOptions.DefaultAddress,
            certificate is null ? null : Path.GetFullPath(certificate),
            key is null ? null : Path.GetFullPath(key),
            "--streaming-* / CRIOCI_STREAMING_*");
    }

    private static PodSandbox.Network.CniOptions CniFrom(Dictionary<string, string> flags, DaemonConfigFile file)
    {
        var defaults = PodSandbox.Network.CniOptions.Default;
        var confDir = flags.GetValueOrDefault("--cni-conf-dir") ?? file.Cni?.ConfDir ?? defaults.ConfigDirectory;
        var binDirs = flags.GetValueOrDefault("--cni-bin-dir")?.Split(':', StringSplitOptions.RemoveEmptyEntries)
            ?? file.Cni?.BinDirs?.ToArray() ?? [.. defaults.PluginDirectories];
        var native = flags.GetValueOrDefault("--cni-native-bridge") switch
        {
            null => defaults.NativeDefaultNetwork,
            "true" => true,
            "false" => false,
            var other => throw new DaemonConfigException($"--cni-native-bridge / CRIOCI_CNI_NATIVE_BRIDGE: \"{other}\" is not true or false"),
        };
        return defaults with
        {
            ConfigDirectory = Path.GetFullPath(confDir),
            PluginDirectories = [.. binDirs.Select(Path.GetFullPath)],
            NativeDefaultNetwork = native,
        };
    }

    /// <summary>Flag and environment values are checked as strictly as the file's, naming where they came from.</summary>
    private static TelemetryOptions TelemetryFrom(Dictionary<string, string> flags, DaemonConfigFile file)
    {
        var metricsAddress = flags.GetValueOrDefault("--metrics-address") ?? file.Metrics?.Address;
        if (!string.IsNullOrEmpty(metricsAddress))
        {
            try
            {
                TelemetryOptions.ParseEndPoint(metricsAddress);
            }
            catch (FormatException ex)
            {
                throw new DaemonConfigException($"--metrics-address / CRIOCI_METRICS_ADDRESS: {ex.Message}", ex);
            }
        }
        var otlpEndpoint = flags.GetValueOrDefault("--otlp-endpoint") ?? file.Otlp?.Endpoint;
        if (!string.IsNullOrEmpty(otlpEndpoint) && !TelemetryOptions.IsValidOtlpEndpoint(otlpEndpoint))
        {
            throw new DaemonConfigException($"--otlp-endpoint / CRIOCI_OTLP_ENDPOINT: \"{otlpEndpoint}\" is not an http(s) URL");
        }
        var levelText = flags.GetValueOrDefault("--log-level") ?? file.Log?.Level ?? "information";
        var level = DaemonConfigFile.ParseLogLevel(levelText)
            ?? throw new DaemonConfigException($"--log-level / CRIOCI_LOG_LEVEL: \"{levelText}\" is not one of trace, debug, information, warning, error, critical, none");
        var format = flags.GetValueOrDefault("--log-format") ?? file.Log?.Format ?? TelemetryOptions.DefaultLogFormat;
        if (!TelemetryOptions.IsKnownLogFormat(format))
        {
            throw new DaemonConfigException($"--log-format / CRIOCI_LOG_FORMAT: \"{format}\" is not text or json");
        }
        return new TelemetryOptions(
            MetricsAddress: string.IsNullOrEmpty(metricsAddress) ? null : metricsAddress,
            OtlpEndpoint: string.IsNullOrEmpty(otlpEndpoint) ? null : otlpEndpoint,
            OtlpProtocol: file.Otlp?.Protocol ?? TelemetryOptions.DefaultOtlpProtocol,
            ServiceName: file.Otlp?.ServiceName ?? TelemetryOptions.DefaultServiceName,
            RuntimeMetrics: file.Metrics?.RuntimeMetrics ?? true,
            LogLevel: level,
            LogFormat: format);
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
internal sealed record DaemonCommand(DaemonOptions? Options, string? Error, bool ShowHelp, string? Output = null)
{
    public static DaemonCommand Help { get; } = new(null, null, ShowHelp: true);

    public static DaemonCommand UsageError(string message) => new(null, message, ShowHelp: false);

    public static DaemonCommand Run(DaemonOptions options) => new(options, null, ShowHelp: false);

    /// <summary>A subcommand whose whole job is to print <paramref name="output"/> and exit 0.</summary>
    public static DaemonCommand Print(string output) => new(null, null, ShowHelp: false, Output: output);
}
