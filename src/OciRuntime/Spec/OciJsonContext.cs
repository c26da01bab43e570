using System.Text.Json.Serialization;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Spec;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(RuntimeSpec))]
[JsonSerializable(typeof(ProcessSpec))]
[JsonSerializable(typeof(SeccompSpec))]
[JsonSerializable(typeof(ResourcesSpec))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ContainerStateFile))]
[JsonSerializable(typeof(ContainerExitFile))]
[JsonSerializable(typeof(OciState))]
public sealed partial class OciJsonContext : JsonSerializerContext;
