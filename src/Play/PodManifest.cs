using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace CriOci.Play;

/// <summary>
/// Reads a Pod manifest (YAML or JSON, one document, kind Pod) into KubernetesClient's V1Pod.
/// YAML becomes JSON first, then System.Text.Json's generated code fills the model, as the API
/// server's own decoding does (YAML is converted to JSON there too).
/// </summary>
public static class PodManifest
{
    public static V1Pod Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PlayException($"{path}: {ex.Message}");
        }
        return Parse(text, path);
    }

    public static V1Pod Parse(string yaml, string source)
    {
        JsonNode? json;
        try
        {
            json = YamlToJson(yaml);
        }
        catch (YamlException ex)
        {
            throw new PlayException($"{source} line {ex.Start.Line}: {ex.Message}");
        }
        if (json is not JsonObject document)
        {
            throw new PlayException($"{source}: expected a Pod manifest (a YAML mapping)");
        }
        var kind = document["kind"]?.GetValue<string>();
        if (kind != "Pod")
        {
            throw new PlayException($"{source}: kind is \"{kind}\"; crioci play runs kind Pod only");
        }
        V1Pod? pod;
        try
        {
            pod = document.Deserialize(PlayJsonContext.Default.V1Pod);
        }
        catch (JsonException ex)
        {
            throw new PlayException($"{source}: {ex.Path}: {ex.Message}");
        }
        if (pod?.Metadata?.Name is not { Length: > 0 })
        {
            throw new PlayException($"{source}: metadata.name is required");
        }
        if (pod.Spec?.Containers is not { Count: > 0 })
        {
            throw new PlayException($"{source}: spec.containers needs at least one container");
        }
        return pod;
    }

    /// <summary>The first document of <paramref name="yaml"/> as JSON; plain scalars get YAML 1.2 core types.</summary>
    internal static JsonNode? YamlToJson(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _))
        {
            return null;
        }
        var node = ReadNode(parser);
        parser.Consume<DocumentEnd>();
        if (parser.Accept<DocumentStart>(out _))
        {
            throw new PlayException("the manifest holds more than one YAML document; give one Pod per file");
        }
        return node;
    }

    private static JsonNode? ReadNode(IParser parser)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return ScalarToJson(scalar);
        }
        if (parser.TryConsume<SequenceStart>(out _))
        {
            var array = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                array.Add(ReadNode(parser));
            }
            return array;
        }
        if (parser.TryConsume<MappingStart>(out _))
        {
            var obj = new JsonObject();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = parser.Consume<Scalar>().Value;
                obj[key] = ReadNode(parser);
            }
            return obj;
        }
        var unexpected = parser.Current;
        throw new YamlException(unexpected!.Start, unexpected.End, $"unsupported YAML construct {unexpected.GetType().Name} (anchors and aliases are not supported)");
    }

    private static JsonNode? ScalarToJson(Scalar scalar)
    {
        var value = scalar.Value;
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && value.Any(char.IsDigit) && !value.Contains("Infinity", StringComparison.Ordinal))
        {
            return JsonValue.Create(number);
        }
        return JsonValue.Create(value);
    }
}

/// <summary>V1Pod's object graph only: the full KubernetesClient context would add every API type to crioci.</summary>
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = false, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(V1Pod))]
internal sealed partial class PlayJsonContext : JsonSerializerContext
{
}

/// <summary>The manifest cannot be played; the message is for the user as is.</summary>
public sealed class PlayException(string message) : Exception(message);
