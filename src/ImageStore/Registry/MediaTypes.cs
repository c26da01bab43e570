namespace CriOci.ImageStore.Registry;

/// <summary>
/// The manifest, config and layer media types of the OCI image spec (media-types.md) and
/// of Docker's image manifest v2 schema 2, which registries still serve for older images.
/// </summary>
internal static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerSchema1Manifest = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1SignedManifest = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>Sent as Accept on manifest requests, most wanted first.</summary>
    public static readonly IReadOnlyList<string> AcceptedManifests =
        [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    public static bool IsSchema1(string mediaType) =>
        mediaType is DockerSchema1Manifest or DockerSchema1SignedManifest;

    public static bool IsImageConfig(string mediaType) => mediaType is OciConfig or DockerConfig;

    /// <summary>
    /// Layer types the unpacker takes: OCI tar (plain, gzip, zstd, also the non-distributable
    /// variants) and Docker's gzip layers. The compression is detected from the bytes.
    /// </summary>
    public static bool IsLayer(string mediaType) => mediaType is
        "application/vnd.oci.image.layer.v1.tar"
        or "application/vnd.oci.image.layer.v1.tar+gzip"
        or "application/vnd.oci.image.layer.v1.tar+zstd"
        or "application/vnd.oci.image.layer.nondistributable.v1.tar"
        or "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        or "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
        or "application/vnd.docker.image.rootfs.diff.tar.gzip"
        or "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}
