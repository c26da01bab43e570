using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CriOci.Core;
using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Layout;

/// <summary>
/// The two metadata files of an OCI image layout (image-spec image-layout.md): "oci-layout"
/// ({"imageLayoutVersion": "1.0.0"}) and "index.json" (an image index whose entries name their
/// images with annotations: "org.opencontainers.image.ref.name" holds the tag, as the spec's
/// annotations.md suggests, and "io.containerd.image.name" the full name, as containerd and
/// nerdctl write it).
/// </summary>
internal static class OciLayoutFiles
{
    public const string LayoutFileName = "oci-layout";
    public const string IndexFileName = "index.json";
    public const string LayoutVersion = "1.0.0";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    public const string ContainerdNameAnnotation = "io.containerd.image.name";

    private const int MaxIndexBytes = 4 * 1024 * 1024;

    public static OciIndex ReadIndex(string layout)
    {
        var layoutFile = Path.Combine(layout, LayoutFileName);
        if (!File.Exists(layoutFile))
        {
            throw new InvalidArgumentException($"{layout} is not an OCI image layout: it has no {LayoutFileName} file");
        }
        var version = Deserialize(File.ReadAllBytes(layoutFile), LayoutJsonContext.Default.OciLayoutVersion, layoutFile).ImageLayoutVersion;
        if (version != LayoutVersion)
        {
            throw new FailedPreconditionException($"{layoutFile}: image layout version \"{version}\" is not supported (only {LayoutVersion})");
        }
        var indexFile = Path.Combine(layout, IndexFileName);
        var info = new FileInfo(indexFile);
        if (!info.Exists)
        {
            throw new InvalidArgumentException($"{layout} is not an OCI image layout: it has no {IndexFileName}");
        }
        if (info.Length > MaxIndexBytes)
        {
            throw new FailedPreconditionException($"{indexFile} is larger than {MaxIndexBytes} bytes");
        }
        return Deserialize(File.ReadAllBytes(indexFile), RegistryJsonContext.Default.OciIndex, indexFile);
    }

    public static void WriteLayoutFile(string layout) =>
        AtomicFile.WriteAllBytes(Path.Combine(layout, LayoutFileName), Encoding.UTF8.GetBytes($"{{\"imageLayoutVersion\":\"{LayoutVersion}\"}}"));

    public static void WriteIndex(string layout, IReadOnlyList<OciDescriptor> manifests)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var descriptor in manifests)
            {
                writer.WriteStartObject();
                writer.WriteString("mediaType", descriptor.MediaType);
                writer.WriteString("digest", descriptor.Digest);
                writer.WriteNumber("size", descriptor.Size);
                if (descriptor.Platform is { } platform)
                {
                    writer.WriteStartObject("platform");
                    writer.WriteString("architecture", platform.Architecture);
                    writer.WriteString("os", platform.Os);
                    if (!string.IsNullOrEmpty(platform.Variant))
                    {
                        writer.WriteString("variant", platform.Variant);
                    }
                    writer.WriteEndObject();
                }
                if (descriptor.Annotations is { Count: > 0 } annotations)
                {
                    writer.WriteStartObject("annotations");
                    foreach (var (name, value) in annotations.OrderBy(a => a.Key, StringComparer.Ordinal))
                    {
                        writer.WriteString(name, value);
                    }
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        AtomicFile.WriteAllBytes(Path.Combine(layout, IndexFileName), buffer.ToArray());
    }

    private static T Deserialize<T>(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string file)
    {
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo) ?? throw new InvalidArgumentException($"{file} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidArgumentException($"{file} is not valid: {e.Message}");
        }
    }
}

internal sealed record OciLayoutVersion([property: JsonPropertyName("imageLayoutVersion")] string? ImageLayoutVersion);

[JsonSourceGenerationOptions(UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(OciLayoutVersion))]
internal sealed partial class LayoutJsonContext : JsonSerializerContext;
