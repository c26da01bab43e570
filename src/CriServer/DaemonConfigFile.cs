using System.Text.Json;
using System.Text.Json.Serialization;
using CriOci.CriServer.Telemetry;
using Microsoft.Extensions.Logging;

namespace CriOci.CriServer;

/// <summary>
/// The --config JSON file (README.md "Configuration"; <c>crioci config default</c> prints every
/// key with its default). Every key is optional. Unknown keys and wrong types are errors that
/// name the key's JSON path and line, so a typo ("sockte") stops the daemon instead of
/// silently using a default.
/// </summary>
internal sealed record DaemonConfigFile(
    string? Socket = null,
    string? SocketGroup = null,
    string? Root = null,
    string? State = null,
    string? Runtime = null,
    IReadOnlyList<string>? InsecureRegistries = null,
    DaemonConfigFile.LogSection? Log = null,
    DaemonConfigFile.MetricsSection? Metrics = null,
    DaemonConfigFile.OtlpSection? Otlp = null,
    DaemonConfigFile.CniSection? Cni = null,
    DaemonConfigFile.RegistriesSection? Registries = null,
    DaemonConfigFile.StreamingSection? Streaming = null,
    string? DefaultRuntimeHandler = null,
    IReadOnlyDictionary<string, DaemonConfigFile.RuntimeHandlerSection>? RuntimeHandlers = null,
    DaemonConfigFile.ImagesSection? Images = null)
{
    /// <summary>runtimeHandlers.NAME: an external runc-compatible binary pods select with runtime_handler NAME (README.md "RuntimeClass").</summary>
    /// <param name="Path">The binary (absolute, or a name looked up on PATH).</param>
    /// <param name="Root">Its --root state directory; absent: &lt;state&gt;/handlers/NAME/root.</param>
    /// <param name="ExtraArgs">Global options given before every verb.</param>
    internal sealed record RuntimeHandlerSection(string? Path = null, string? Root = null, IReadOnlyList<string>? ExtraArgs = null);

    /// <summary>images: the image store (README.md "Images").</summary>
    /// <param name="Pinned">References or IDs reported pinned, so kubelet's image GC keeps them.</param>
    internal sealed record ImagesSection(IReadOnlyList<string>? Pinned = null);

    /// <summary>streaming: the exec/attach/port-forward server kubelet and crictl connect to (README.md "Streaming").</summary>
    /// <param name="Address">"ip:port" to listen on (port 0: any free port); empty turns streaming off.</param>
    /// <param name="TlsCertFile">PEM certificate: serve HTTPS (needs <paramref name="TlsKeyFile"/>).</param>
    /// <param name="TlsKeyFile">PEM private key of the certificate.</param>
    internal sealed record StreamingSection(string? Address = null, string? TlsCertFile = null, string? TlsKeyFile = null);

    /// <summary>registries: where pull configuration lives (README.md "Registries").</summary>
    /// <param name="ConfigDir">hosts.toml directory (containerd's layout); a missing directory means upstream only.</param>
    /// <param name="AuthFile">Docker config.json credentials; a missing file means anonymous pulls unless the CRI passes credentials.</param>
    internal sealed record RegistriesSection(string? ConfigDir = null, string? AuthFile = null);

    /// <summary>cni: pod networking (README.md "Pod network").</summary>
    /// <param name="ConfDir">The CNI config directory; no config there means the built-in bridge network.</param>
    /// <param name="BinDirs">Where CNI plugin binaries are looked up, in order (CNI_PATH).</param>
    internal sealed record CniSection(string? ConfDir = null, IReadOnlyList<string>? BinDirs = null);

    /// <summary>log: the daemon's own log lines.</summary>
    /// <param name="Level">trace, debug, information, warning, error, critical or none.</param>
    /// <param name="Format">text (one line per event) or json (one object per line).</param>
    internal sealed record LogSection(string? Level = null, string? Format = null);

    /// <summary>metrics: the Prometheus scrape endpoint.</summary>
    /// <param name="Address">"ip:port" for GET /metrics and /healthz over HTTP/1.1; empty means off.</param>
    /// <param name="RuntimeMetrics">Export .NET runtime and process metrics as well.</param>
    internal sealed record MetricsSection(string? Address = null, bool? RuntimeMetrics = null);

    /// <summary>otlp: OpenTelemetry protocol export of metrics, traces and logs.</summary>
    /// <param name="Endpoint">Collector base URL; empty means OTEL_EXPORTER_OTLP_ENDPOINT, or off without it.</param>
    /// <param name="Protocol">grpc or http/protobuf.</param>
    /// <param name="ServiceName">The service.name resource attribute.</param>
    internal sealed record OtlpSection(string? Endpoint = null, string? Protocol = null, string? ServiceName = null);

    /// <summary>What <c>crioci config default</c> prints: every key, set to what the daemon uses when it is absent.</summary>
    public static DaemonConfigFile Defaults => new(
        Socket: DaemonOptions.DefaultSocketPath,
        SocketGroup: "root",
        Root: DaemonOptions.DefaultRootDirectory,
        State: DaemonOptions.DefaultStateDirectory,
        Runtime: DaemonOptions.DefaultRuntimeExecutable,
        InsecureRegistries: [],
        Log: new LogSection(Level: "information", Format: TelemetryOptions.DefaultLogFormat),
        Metrics: new MetricsSection(Address: "", RuntimeMetrics: true),
        Otlp: new OtlpSection(Endpoint: "", Protocol: TelemetryOptions.DefaultOtlpProtocol, ServiceName: TelemetryOptions.DefaultServiceName),
        Cni: new CniSection(ConfDir: PodSandbox.Network.CniOptions.DefaultConfigDirectory, BinDirs: PodSandbox.Network.CniOptions.DefaultPluginDirectories),
        Registries: new RegistriesSection(ConfigDir: DaemonOptions.DefaultRegistryConfigDirectory, AuthFile: DaemonOptions.DefaultRegistryAuthFile),
        Streaming: new StreamingSection(Address: CriServer.Streaming.StreamingListenerOptions.DefaultAddress),
        DefaultRuntimeHandler: PodSandbox.Handlers.RuntimeHandlerOptions.EmbeddedName,
        RuntimeHandlers: DetectedHandlers(),
        Images: new ImagesSection(Pinned: []));

    /// <summary>crun and runc as the daemon finds them on this machine's PATH (nothing to configure when they are there).</summary>
    private static SortedDictionary<string, RuntimeHandlerSection> DetectedHandlers()
    {
        var detected = PodSandbox.Handlers.RuntimeHandlerOptions.Build(null, null, Environment.GetEnvironmentVariable("PATH"));
        return new SortedDictionary<string, RuntimeHandlerSection>(
            detected.External.ToDictionary(pair => pair.Key,
                pair => new RuntimeHandlerSection(pair.Value.Path, detected.RootOf(pair.Key, DaemonOptions.DefaultStateDirectory), [])),
            StringComparer.Ordinal);
    }

    /// <summary>The handlers the daemon offers: detected crun and runc, then this file's entries on top.</summary>
    public PodSandbox.Handlers.RuntimeHandlerOptions HandlerOptions(string? searchPath)
    {
        try
        {
            return PodSandbox.Handlers.RuntimeHandlerOptions.Build(DefaultRuntimeHandler,
                RuntimeHandlers?.ToDictionary(pair => pair.Key,
                    pair => new PodSandbox.Handlers.ExternalHandlerOptions(pair.Value.Path ?? "", pair.Value.Root, pair.Value.ExtraArgs)),
                searchPath);
        }
        catch (ArgumentException ex)
        {
            throw new DaemonConfigException($"config file: {ex.Message}", ex);
        }
    }

    /// <summary>The defaults as indented JSON, ready to be saved as a config file and edited.</summary>
    public static string DefaultJson() =>
        JsonSerializer.Serialize(Defaults, DaemonConfigWriteContext.Default.DaemonConfigFile) + "\n";

    /// <summary>Reads and validates <paramref name="path"/>; every failure names the file, the key and the line.</summary>
    public static DaemonConfigFile Load(string path)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DaemonConfigException($"config file {path}: {ex.Message}", ex);
        }
        return Parse(content, path);
    }

    /// <summary>Parses and validates the file's bytes; <paramref name="path"/> is only for messages.</summary>
    public static DaemonConfigFile Parse(byte[] content, string path)
    {
        DaemonConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize(content, CriJsonContext.Default.DaemonConfigFile);
        }
        catch (JsonException ex)
        {
            // System.Text.Json counts lines from 0 and appends "Path: $.x | LineNumber: ..." to its
            // message; say it the way editors count, key first.
            var line = ex.LineNumber is { } zeroBased ? $" line {zeroBased + 1}" : "";
            var key = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" key {ex.Path[2..]}";
            throw new DaemonConfigException($"config file {path}{line}{key}: {StripLocation(ex.Message)}", ex);
        }
        if (config is null)
        {
            throw new DaemonConfigException($"config file {path}: expected a JSON object, found null");
        }
        config.Validate(content, path);
        return config;
    }

    /// <summary>Checks values JSON types cannot express; each error names the key and its line.</summary>
    private void Validate(byte[] content, string path)
    {
        void Fail(string key, string problem) =>
            throw new DaemonConfigException($"config file {path}{LineOf(content, key)} key {key}: {problem}");

        if (InsecureRegistries?.Any(string.IsNullOrWhiteSpace) == true)
        {
            Fail("insecureRegistries", "holds an empty entry");
        }
        if (Images?.Pinned?.Any(string.IsNullOrWhiteSpace) == true)
        {
            Fail("images.pinned", "holds an empty entry");
        }
        if (Log?.Level is { } level && ParseLogLevel(level) is null)
        {
            Fail("log.level", $"\"{level}\" is not one of trace, debug, information, warning, error, critical, none");
        }
        if (Log?.Format is { } format && !TelemetryOptions.IsKnownLogFormat(format))
        {
            Fail("log.format", $"\"{format}\" is not text or json");
        }
        if (Metrics?.Address is { Length: > 0 } address)
        {
            try
            {
                TelemetryOptions.ParseEndPoint(address);
            }
            catch (FormatException ex)
            {
                Fail("metrics.address", ex.Message);
            }
        }
        if (Streaming?.Address is { Length: > 0 } streamingAddress)
        {
            try
            {
                TelemetryOptions.ParseEndPoint(streamingAddress);
            }
            catch (FormatException ex)
            {
                Fail("streaming.address", ex.Message);
            }
        }
        if ((Streaming?.TlsCertFile is null) != (Streaming?.TlsKeyFile is null))
        {
            Fail(Streaming?.TlsCertFile is null ? "streaming.tlsKeyFile" : "streaming.tlsCertFile", "a TLS certificate needs its key and a key its certificate");
        }
        if (DefaultRuntimeHandler is { } defaultHandler && !IsHandlerName(defaultHandler))
        {
            Fail("defaultRuntimeHandler", $"\"{defaultHandler}\" is not a handler name (letters, digits, '-', '_', '.')");
        }
        foreach (var (name, handler) in RuntimeHandlers ?? new Dictionary<string, RuntimeHandlerSection>())
        {
            if (!IsHandlerName(name))
            {
                Fail("runtimeHandlers", $"\"{name}\" is not a handler name (letters, digits, '-', '_', '.')");
            }
            if (name == (DefaultRuntimeHandler ?? PodSandbox.Handlers.RuntimeHandlerOptions.EmbeddedName))
            {
                Fail($"runtimeHandlers.{name}", "is the name of the embedded runtime (defaultRuntimeHandler)");
            }
            if (string.IsNullOrWhiteSpace(handler.Path))
            {
                Fail($"runtimeHandlers.{name}", "needs a path");
            }
        }
        if (Otlp?.Endpoint is { Length: > 0 } endpoint && !TelemetryOptions.IsValidOtlpEndpoint(endpoint))
        {
            Fail("otlp.endpoint", $"\"{endpoint}\" is not an absolute URL such as http://127.0.0.1:4317");
        }
        if (Otlp?.Protocol is { } protocol && !TelemetryOptions.IsKnownOtlpProtocol(protocol))
        {
            Fail("otlp.protocol", $"\"{protocol}\" is not grpc or http/protobuf");
        }
    }

    /// <summary>Handler names become directory names under the state directory: no separators, no dot-only names.</summary>
    internal static bool IsHandlerName(string name) =>
        name.Length is > 0 and <= 64 && name.Trim('.').Length > 0
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static LogLevel? ParseLogLevel(string level) =>
        Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(level, out _)
            ? parsed
            : null;

    /// <summary>" line N" where the property <paramref name="dottedKey"/> ("metrics.address") is written, or "" if not found.</summary>
    internal static string LineOf(byte[] content, string dottedKey)
    {
        var wanted = dottedKey.Split('.');
        var reader = new Utf8JsonReader(content, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var path = new List<string?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        path.Add(null);
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        path[^1] = reader.GetString();
                        if (path.Count == wanted.Length && path.Zip(wanted).All(p => string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase)))
                        {
                            var line = 1 + content.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n');
                            return $" line {line}";
                        }
                        break;
                }
            }
        }
        catch (JsonException)
        {
        }
        return "";
    }

    private static string StripLocation(string message)
    {
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }
}

/// <summary>Writes the config file for <c>crioci config default</c>: indented, every key present.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(DaemonConfigFile))]
internal sealed partial class DaemonConfigWriteContext : JsonSerializerContext
{
}

/// <summary>The daemon cannot start with the configuration it was given.</summary>
internal sealed class DaemonConfigException(string message, Exception? inner = null) : Exception(message, inner);
