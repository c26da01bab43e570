using System.Text.Json.Serialization;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Source-generated JSON for registry documents: the daemon is NativeAOT, so no reflection.
/// Registries and image builders disagree on details, so reading is lenient about
/// unknown members, comments and trailing commas, never about types.
/// </summary>
[JsonSourceGenerationOptions(
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciIndex))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(OciImageConfig))]
[JsonSerializable(typeof(RegistryErrorBody))]
[JsonSerializable(typeof(TokenResponse))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
