namespace CriOci.ImageStore;

/// <summary>Configuration of the image store.</summary>
/// <param name="RootDirectory">Where blobs, layers and image metadata live (e.g. /var/lib/crioci/images).</param>
/// <param name="InsecureRegistries">
/// Registry hosts ("host" or "host:port") reached over plain HTTP. localhost, 127.0.0.1 and
/// [::1] always are, on any port, like Docker and containerd.
/// </param>
public sealed record ImageStoreOptions(string RootDirectory, IReadOnlyList<string> InsecureRegistries)
{
    /// <summary>The platform picked from image indexes; null means this machine's (linux and its architecture).</summary>
    public ImagePlatform? Platform { get; init; }

    /// <summary>
    /// Images never to be garbage collected by kubelet (containerd's pinned_images, CRI-O's
    /// pinned_images): references ("registry.k8s.io/pause:3.10", normalised like any pull) or
    /// image IDs ("sha256:&lt;hex&gt;").
    /// </summary>
    public IReadOnlyList<string> PinnedImages { get; init; } = [];

    /// <summary>Layers of one image fetched and unpacked at the same time.</summary>
    public int MaxConcurrentLayers { get; init; } = 3;

    /// <summary>
    /// containerd's registry host directory (its config_path, e.g. /etc/crioci/certs.d):
    /// &lt;dir&gt;/&lt;registry host[:port]&gt;/hosts.toml or &lt;dir&gt;/_default/hosts.toml, with
    /// mirrors, plain-HTTP hosts, CA and client certificates. Null or absent: upstream only.
    /// </summary>
    public string? RegistryConfigDirectory { get; init; }

    /// <summary>
    /// A Docker config.json ({"auths": {"host": {"auth": ...}}}) with credentials per registry
    /// host, used when the CRI request brings none and always for mirrors. Null or absent: none.
    /// </summary>
    public string? CredentialsFile { get; init; }

    /// <summary>Longest wait for a registry's response headers (and a whole manifest); longer is a transient failure.</summary>
    public TimeSpan RegistryRequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest silence inside a blob download; longer is a transient failure.</summary>
    public TimeSpan RegistryReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts of each manifest or blob fetch on transient errors (5xx, 429, resets, timeouts), the first included.</summary>
    public int RegistryMaxAttempts { get; init; } = 4;

    /// <summary>Wait before the first retry; doubled for each further one up to <see cref="RegistryRetryMaxDelay"/>.</summary>
    public TimeSpan RegistryRetryInitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RegistryRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(8);
}

/// <summary>An OCI platform: os, architecture and optional variant (e.g. linux/arm/v7).</summary>
public sealed record ImagePlatform(string Os, string Architecture, string? Variant = null);
