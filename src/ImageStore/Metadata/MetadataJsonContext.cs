using System.Text.Json.Serialization;

namespace CriOci.ImageStore.Metadata;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(StoredImage))]
internal sealed partial class MetadataJsonContext : JsonSerializerContext;
