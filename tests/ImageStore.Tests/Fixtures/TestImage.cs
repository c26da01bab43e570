using System.Text;
using System.Text.Json.Nodes;

namespace CriOci.ImageStore.Tests.Fixtures;

/// <summary>One layer as a registry serves it.</summary>
internal sealed record TestLayer(byte[] Blob, string Digest, string DiffId, string MediaType);

/// <summary>A complete single-platform image: gzip layers, config and manifest, with their digests.</summary>
internal sealed record TestImage(
    string Architecture,
    IReadOnlyList<TestLayer> Layers,
    byte[] Config,
    string ConfigDigest,
    byte[] Manifest,
    string ManifestDigest,
    string ManifestMediaType)
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    public static TestLayer Layer(LayerBuilder builder)
    {
        var tar = builder.BuildTar();
        var blob = LayerBuilder.Gzip(tar);
        return new TestLayer(blob, LayerBuilder.Sha256(blob), LayerBuilder.Sha256(tar), OciLayerGzip);
    }

    public static TestImage Create(string architecture, params TestLayer[] layers) =>
        Create(architecture, [], layers);

    public static TestImage Create(string architecture, IReadOnlyList<string> cmd, params TestLayer[] layers)
    {
        var config = new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["User"] = "1000:1000",
                ["Env"] = new JsonArray("PATH=/bin", $"ARCH={architecture}"),
                ["Cmd"] = new JsonArray([.. cmd.Select(c => (JsonNode)c!)]),
                ["WorkingDir"] = "/work",
                ["Labels"] = new JsonObject { ["org.example.arch"] = architecture },
                ["StopSignal"] = "SIGTERM",
                ["ExposedPorts"] = new JsonObject { ["8080/tcp"] = new JsonObject(), ["53/udp"] = new JsonObject() },
            },
            ["rootfs"] = new JsonObject
            {
                ["type"] = "layers",
                ["diff_ids"] = new JsonArray([.. layers.Select(l => (JsonNode)l.DiffId!)]),
            },
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifest,
            ["config"] = Descriptor(OciConfig, configBytes),
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)new JsonObject
            {
                ["mediaType"] = l.MediaType,
                ["digest"] = l.Digest,
                ["size"] = l.Blob.Length,
            })]),
        };
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        return new TestImage(architecture, layers, configBytes, LayerBuilder.Sha256(configBytes), manifestBytes,
            LayerBuilder.Sha256(manifestBytes), OciManifest);
    }

    public long ExpectedSize => Manifest.Length + Config.Length + Layers.Sum(l => l.Blob.Length);

    /// <summary>An OCI index over <paramref name="images"/>, each with its platform (linux/architecture).</summary>
    public static byte[] Index(params TestImage[] images)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciIndex,
            ["manifests"] = new JsonArray([.. images.Select(i =>
            {
                var descriptor = Descriptor(i.ManifestMediaType, i.Manifest);
                descriptor["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = i.Architecture };
                return (JsonNode)descriptor;
            })]),
        };
        return Encoding.UTF8.GetBytes(index.ToJsonString());
    }

    private static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = LayerBuilder.Sha256(content),
        ["size"] = content.Length,
    };
}
