namespace CriOci.ImageStore;

/// <summary>One stored image.</summary>
/// <param name="Id">"sha256:&lt;hex&gt;", the digest of the image config.</param>
/// <param name="RepoTags">Normalised name:tag references, e.g. "docker.io/library/busybox:latest".</param>
/// <param name="RepoDigests">name@digest references; the digest is the one the registry served for the pulled reference (index or manifest).</param>
/// <param name="Size">Bytes of the compressed layers, config and manifest, the figure containerd reports.</param>
/// <param name="ChainIds">OCI chain IDs of the layers, bottom layer first.</param>
/// <param name="ManifestDigest">Digest of the platform-specific image manifest.</param>
public sealed record ImageRecord(
    string Id,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    long Size,
    ImageConfig Config,
    IReadOnlyList<string> ChainIds,
    string ManifestDigest,
    DateTimeOffset PulledAt);

/// <summary>The parts of the OCI image config a container spec is built from.</summary>
/// <param name="ExposedPorts">Keys of the config's ExposedPorts, e.g. "80/tcp".</param>
public sealed record ImageConfig(
    string? User,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    string? WorkingDir,
    IReadOnlyDictionary<string, string> Labels,
    string? StopSignal,
    IReadOnlyList<string> ExposedPorts,
    string Os,
    string Architecture);
