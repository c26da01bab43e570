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

    /// <summary>Layers of one image fetched and unpacked at the same time.</summary>
    public int MaxConcurrentLayers { get; init; } = 3;
}

/// <summary>An OCI platform: os, architecture and optional variant (e.g. linux/arm/v7).</summary>
public sealed record ImagePlatform(string Os, string Architecture, string? Variant = null);
