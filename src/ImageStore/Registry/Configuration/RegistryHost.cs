namespace CriOci.ImageStore.Registry.Configuration;

/// <summary>What a registry host may be used for (containerd hosts.toml "capabilities").</summary>
[Flags]
internal enum HostCapabilities
{
    None = 0,

    /// <summary>Fetch manifests and blobs by digest: content is verified, so any mirror may serve it.</summary>
    Pull = 1,

    /// <summary>Turn a tag into a digest: only a host trusted to know the tags should have it.</summary>
    Resolve = 2,

    /// <summary>Accepted in the file for compatibility; this runtime never pushes.</summary>
    Push = 4,
}

/// <summary>
/// One place an image's content can come from: a mirror or the upstream registry itself.
/// </summary>
/// <param name="Host">The URL's authority ("mirror.local:5000"); names the host in errors and finds its credentials.</param>
/// <param name="BaseUri">The API root ending in '/', normally "scheme://host/v2/".</param>
/// <param name="Namespace">For a mirror, the upstream registry ("docker.io"), sent as ?ns= as containerd does; null for the upstream.</param>
internal sealed record RegistryHost(
    string Host,
    Uri BaseUri,
    HostCapabilities Capabilities,
    RegistryTlsSettings Tls,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Headers,
    string? Namespace)
{
    public bool IsPlainHttp => BaseUri.Scheme == Uri.UriSchemeHttp;
}

/// <summary>
/// TLS settings of one host: extra CA certificates (trusted next to the system's), client
/// certificates (PEM; the key in its own file or in the certificate's) and skip_verify.
/// </summary>
internal sealed record RegistryTlsSettings(
    bool SkipVerify,
    IReadOnlyList<string> CaFiles,
    IReadOnlyList<ClientCertificateFiles> ClientCertificates)
{
    public static RegistryTlsSettings Default { get; } = new(false, [], []);

    public bool IsDefault => !SkipVerify && CaFiles.Count == 0 && ClientCertificates.Count == 0;

    /// <summary>Settings with equal files share one connection pool.</summary>
    public string Key => $"{SkipVerify}|{string.Join('|', CaFiles)}|{string.Join('|', ClientCertificates.Select(c => $"{c.CertificateFile}+{c.KeyFile}"))}";
}

/// <param name="KeyFile">Null when the key is in <paramref name="CertificateFile"/>.</param>
internal sealed record ClientCertificateFiles(string CertificateFile, string? KeyFile);
