namespace CriOci.PodSandbox.Handlers;

/// <summary>One external handler: a runc-compatible binary (config file runtimeHandlers.NAME).</summary>
/// <param name="Path">The binary; a bare name is looked up on PATH when the daemon starts.</param>
/// <param name="Root">The binary's --root; null: &lt;state&gt;/handlers/NAME/root (tmpfs, like runc's /run/runc).</param>
/// <param name="ExtraArgs">Global options given before every verb (e.g. "--debug").</param>
public sealed record ExternalHandlerOptions(string Path, string? Root = null, IReadOnlyList<string>? ExtraArgs = null);

/// <summary>
/// The RuntimeClass handlers this node offers (CRI RunPodSandboxRequest.runtime_handler).
/// The embedded runtime is always there, under "" and <see cref="DefaultName"/>; every other
/// name is an external runc-compatible binary. crun and runc found on PATH are offered without
/// configuration (a configured entry of the same name replaces the detected one).
/// </summary>
/// <param name="DefaultName">The name the embedded runtime answers to besides "" (the RuntimeClass kubelet sends for it).</param>
/// <param name="External">External handlers by name.</param>
public sealed record RuntimeHandlerOptions(string DefaultName, IReadOnlyDictionary<string, ExternalHandlerOptions> External)
{
    public const string EmbeddedName = "crioci";

    /// <summary>Binaries offered as handlers of the same name when they are on PATH.</summary>
    public static readonly IReadOnlyList<string> DetectedBinaries = ["crun", "runc"];

    /// <summary>The embedded runtime alone (tests, and the daemon before its config is read).</summary>
    public static RuntimeHandlerOptions EmbeddedOnly { get; } = new(EmbeddedName, new Dictionary<string, ExternalHandlerOptions>());

    /// <summary>
    /// The handlers the daemon runs with: crun and runc from <paramref name="searchPath"/>, then
    /// <paramref name="configured"/> on top, with bare binary names resolved on the same path.
    /// </summary>
    public static RuntimeHandlerOptions Build(string? defaultName, IReadOnlyDictionary<string, ExternalHandlerOptions>? configured, string? searchPath)
    {
        var handlers = new SortedDictionary<string, ExternalHandlerOptions>(StringComparer.Ordinal);
        foreach (var name in DetectedBinaries)
        {
            if (FindOnPath(name, searchPath) is { } found)
            {
                handlers[name] = new ExternalHandlerOptions(found);
            }
        }
        foreach (var (name, handler) in configured ?? new Dictionary<string, ExternalHandlerOptions>())
        {
            var path = handler.Path.Contains('/') ? System.IO.Path.GetFullPath(handler.Path)
                : FindOnPath(handler.Path, searchPath) ?? throw new ArgumentException($"runtimeHandlers.{name}.path: {handler.Path} is not on PATH");
            handlers[name] = handler with { Path = path, Root = handler.Root is null ? null : System.IO.Path.GetFullPath(handler.Root) };
        }
        var embedded = string.IsNullOrEmpty(defaultName) ? EmbeddedName : defaultName;
        // The configured default name is the embedded runtime; an external handler cannot take it.
        handlers.Remove(embedded);
        return new RuntimeHandlerOptions(embedded, handlers);
    }

    /// <summary>Where handler NAME's binary keeps its state unless configured: beside the daemon's own runtime state.</summary>
    public string RootOf(string name, string stateDirectory) =>
        External[name].Root ?? System.IO.Path.Combine(stateDirectory, "handlers", name, "root");

    /// <summary>Where our monitors keep the state of handler NAME's containers.</summary>
    public static string MonitorStateOf(string name, string stateDirectory) =>
        System.IO.Path.Combine(stateDirectory, "handlers", name, "containers");

    public static string? FindOnPath(string name, string? searchPath)
    {
        foreach (var directory in (searchPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, name);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }
        return null;
    }
}
