using System.Text.Json;
using System.Text.Json.Serialization;

namespace CriOci.ImageStore.Registry;

// The wire documents of the OCI image spec (descriptor.md, manifest.md, image-index.md,
// config.md). Docker schema 2 manifests and manifest lists have the same shape.

internal sealed record OciDescriptor(
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("digest")] string? Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("platform")] OciPlatform? Platform = null,
    [property: JsonPropertyName("urls")] IReadOnlyList<string>? Urls = null,
    [property: JsonPropertyName("annotations")] IReadOnlyDictionary<string, string>? Annotations = null);

internal sealed record OciPlatform(
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("variant")] string? Variant = null);

internal sealed record OciManifest(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("config")] OciDescriptor? Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<OciDescriptor>? Layers);

internal sealed record OciIndex(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<OciDescriptor>? Manifests);

/// <summary>Only what tells the manifest kind apart when the registry sends no usable Content-Type.</summary>
internal sealed record ManifestProbe(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string? MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<OciDescriptor>? Manifests,
    [property: JsonPropertyName("layers")] IReadOnlyList<OciDescriptor>? Layers);

internal sealed record OciImageConfig(
    [property: JsonPropertyName("architecture")] string? Architecture,
    [property: JsonPropertyName("os")] string? Os,
    [property: JsonPropertyName("variant")] string? Variant,
    [property: JsonPropertyName("config")] OciContainerConfig? Config,
    [property: JsonPropertyName("rootfs")] OciRootFs? RootFs);

internal sealed record OciContainerConfig(
    [property: JsonPropertyName("User")] string? User,
    [property: JsonPropertyName("Env")] IReadOnlyList<string>? Env,
    [property: JsonPropertyName("Entrypoint")] IReadOnlyList<string>? Entrypoint,
    [property: JsonPropertyName("Cmd")] IReadOnlyList<string>? Cmd,
    [property: JsonPropertyName("WorkingDir")] string? WorkingDir,
    [property: JsonPropertyName("Labels")] IReadOnlyDictionary<string, string>? Labels,
    [property: JsonPropertyName("StopSignal")] string? StopSignal,
    [property: JsonPropertyName("ExposedPorts")] IReadOnlyDictionary<string, JsonElement>? ExposedPorts);

internal sealed record OciRootFs(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("diff_ids")] IReadOnlyList<string>? DiffIds);

/// <summary>The distribution spec's error body: {"errors":[{"code":..., "message":...}]}.</summary>
internal sealed record RegistryErrorBody(
    [property: JsonPropertyName("errors")] IReadOnlyList<RegistryErrorEntry>? Errors);

internal sealed record RegistryErrorEntry(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

/// <summary>A token endpoint's answer (Docker token spec: "token", OAuth2: "access_token").</summary>
internal sealed record TokenResponse(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("access_token")] string? AccessToken);
