using System.Text.Json;
using System.Text.Json.Serialization;

namespace CriOci.CriServer;

/// <summary>
/// Every JSON the daemon reads or writes, source-generated because the daemon is NativeAOT
/// (reflection-based System.Text.Json is trimmed away).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(DaemonConfigFile))]
[JsonSerializable(typeof(DaemonOptions))]
[JsonSerializable(typeof(ImageStore.ImageConfig))]
internal sealed partial class CriJsonContext : JsonSerializerContext
{
}
