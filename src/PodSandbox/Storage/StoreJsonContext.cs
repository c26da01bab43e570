using System.Text.Json.Serialization;

namespace CriOci.PodSandbox.Storage;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(SandboxRecord))]
[JsonSerializable(typeof(ContainerRecord))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
