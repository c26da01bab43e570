namespace CriOci.CriServer;

/// <summary>Where the daemon listens and keeps its files; every path is absolute.</summary>
/// <param name="SocketPath">The CRI gRPC unix socket kubelet and crictl connect to.</param>
/// <param name="RootDirectory">Persistent data: images, pod and container metadata (DESIGN.md "Storage").</param>
/// <param name="StateDirectory">Runtime state that must vanish at reboot: exit files, fifos, namespace pins.</param>
/// <param name="RuntimeExecutable">The crioci-runtime binary used where the kernel needs a new process.</param>
/// <param name="InsecureRegistries">Registry hosts ("host" or "host:port") pulled from over plain HTTP.</param>
internal sealed record DaemonOptions(
    string SocketPath,
    string RootDirectory,
    string StateDirectory,
    string RuntimeExecutable,
    IReadOnlyList<string> InsecureRegistries)
{
    /// <summary>The group (name or numeric gid) the socket is given, so its members can use crictl; null: root's.</summary>
    public string? SocketGroup { get; init; }

    /// <summary>Metrics, traces and logs: exporters, addresses, log level and format.</summary>
    public Telemetry.TelemetryOptions Telemetry { get; init; } = CriServer.Telemetry.TelemetryOptions.Default;

    /// <summary>CNI: the config directory (first valid network wins, none means the built-in bridge) and CNI_PATH.</summary>
    public PodSandbox.Network.CniOptions Cni { get; init; } = PodSandbox.Network.CniOptions.Default;

    /// <summary>containerd-style hosts.toml directory: mirrors, plain-HTTP hosts, CA and client certificates.</summary>
    public string RegistryConfigDirectory { get; init; } = DefaultRegistryConfigDirectory;

    /// <summary>Docker config.json-format registry credentials.</summary>
    public string RegistryAuthFile { get; init; } = DefaultRegistryAuthFile;

    /// <summary>Image references or IDs reported pinned to kubelet (config images.pinned).</summary>
    public IReadOnlyList<string> PinnedImages { get; init; } = [];

    /// <summary>The exec/attach/port-forward server: listen address and optional TLS.</summary>
    public Streaming.StreamingListenerOptions Streaming { get; init; } = CriServer.Streaming.StreamingListenerOptions.Default;

    /// <summary>RuntimeClass handlers: the embedded runtime's name and the external runc-compatible binaries.</summary>
    public PodSandbox.Handlers.RuntimeHandlerOptions RuntimeHandlers { get; init; } = PodSandbox.Handlers.RuntimeHandlerOptions.EmbeddedOnly;

    public const string DefaultRegistryConfigDirectory = "/etc/crioci/certs.d";
    public const string DefaultRegistryAuthFile = "/etc/crioci/auth.json";
    public const string DefaultSocketPath = "/run/crioci/crioci.sock";
    public const string DefaultRootDirectory = "/var/lib/crioci";
    public const string DefaultStateDirectory = "/run/crioci";

    /// <summary>Images live in their own subtree of the root so the image store owns every file under it.</summary>
    public string ImageRootDirectory => Path.Combine(RootDirectory, "images");

    /// <summary>What the sandbox manager is built with; its directories are named there, once.</summary>
    public PodSandbox.SandboxManagerOptions Sandbox => new(RootDirectory, StateDirectory, RuntimeExecutable, Cni)
    {
        RuntimeHandlers = RuntimeHandlers,
    };

    /// <summary>What the image store is opened with, by the daemon and by <c>crioci images</c>.</summary>
    public ImageStore.ImageStoreOptions ImageStore => new(ImageRootDirectory, InsecureRegistries)
    {
        RegistryConfigDirectory = RegistryConfigDirectory,
        CredentialsFile = RegistryAuthFile,
        PinnedImages = PinnedImages,
    };

    /// <summary>The flock that keeps a second daemon off the same root.</summary>
    public string LockFilePath => Path.Combine(RootDirectory, "crioci.lock");

    /// <summary>crioci-runtime ships next to crioci (one directory in the package and the image).</summary>
    public static string DefaultRuntimeExecutable => Path.Combine(AppContext.BaseDirectory, "crioci-runtime");
}
