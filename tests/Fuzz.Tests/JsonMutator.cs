using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// Inputs for JSON parsers: random bytes, and valid documents changed the ways broken or hostile
/// writers change them: a value replaced by null or by a value of another type, a member
/// removed, nulls and duplicates in arrays, extreme numbers, then sometimes a byte flipped,
/// inserted or the text cut short.
/// </summary>
internal static class JsonMutator
{
    private static readonly string[] OddStrings =
        ["", "../../etc/passwd", "/", "a/b", "\0", "\u00e9", new string('x', 5000), "SCMP_ACT_KILL", "sha256:", "-1", "null", "{", "\"\\"];

    public static byte[] Next(Random random, IReadOnlyList<string> validDocuments)
    {
        if (random.Next(5) == 0)
        {
            return RandomBytes(random);
        }
        var node = JsonNode.Parse(validDocuments[random.Next(validDocuments.Count)])!;
        var mutations = 1 + random.Next(4);
        for (var i = 0; i < mutations; i++)
        {
            node = MutateSomewhere(random, node);
        }
        var bytes = Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");
        return random.Next(3) == 0 ? MutateBytes(random, bytes) : bytes;
    }

    public static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 600)];
        random.NextBytes(bytes);
        // Mostly-JSON-looking noise reaches further into a parser than uniform bytes.
        if (random.Next(2) == 0)
        {
            const string alphabet = "{}[]\":,0123456789.-eEtrufalsn \\/abc";
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)alphabet[random.Next(alphabet.Length)];
            }
        }
        return bytes;
    }

    private static byte[] MutateBytes(Random random, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return bytes;
        }
        var list = new List<byte>(bytes);
        switch (random.Next(3))
        {
            case 0:
                list[random.Next(list.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                list.Insert(random.Next(list.Count), (byte)random.Next(256));
                break;
            default:
                // Cut short, as a dropped connection leaves a document.
                return [.. bytes.AsSpan(0, random.Next(bytes.Length))];
        }
        return [.. list];
    }

    /// <summary>Picks one node of the tree uniformly and changes it; returns the (possibly new) root.</summary>
    private static JsonNode? MutateSomewhere(Random random, JsonNode? root)
    {
        var all = new List<JsonNode>();
        Collect(root, all);
        if (all.Count == 0)
        {
            return RandomValue(random);
        }
        var target = all[random.Next(all.Count)];
        var replacement = random.Next(6) switch
        {
            0 => null,
            1 => RandomValue(random),
            2 => JsonValue.Create(OddStrings[random.Next(OddStrings.Length)]),
            3 => JsonValue.Create(random.Next(3) switch { 0 => long.MaxValue, 1 => -1L, _ => (long)int.MaxValue + 1 }),
            4 => Grow(random, target),
            _ => Remove(target),
        };
        if (ReferenceEquals(replacement, target))
        {
            return root;
        }
        if (target.Parent is null)
        {
            return replacement;
        }
        Replace(target, replacement);
        return root;
    }

    private static void Collect(JsonNode? node, List<JsonNode> into)
    {
        if (node is null)
        {
            return;
        }
        into.Add(node);
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Collect(child, into);
                }
                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Collect(child, into);
                }
                break;
        }
    }

    private static JsonNode? RandomValue(Random random) => random.Next(6) switch
    {
        0 => JsonValue.Create(random.Next(2) == 0),
        1 => JsonValue.Create(random.NextDouble() * 1e6 - 5e5),
        2 => JsonValue.Create(random.Next(int.MinValue, int.MaxValue)),
        3 => new JsonObject(),
        4 => new JsonArray(),
        _ => JsonValue.Create(OddStrings[random.Next(OddStrings.Length)]),
    };

    /// <summary>Arrays get a null or a copy of an element added; objects get a member set to null.</summary>
    private static JsonNode Grow(Random random, JsonNode target)
    {
        switch (target)
        {
            case JsonArray array:
                if (array.Count > 0 && random.Next(2) == 0)
                {
                    array.Add(array[random.Next(array.Count)]?.DeepClone());
                }
                else
                {
                    array.Insert(array.Count == 0 ? 0 : random.Next(array.Count), null);
                }
                break;
            case JsonObject obj when obj.Count > 0:
                var key = obj.ElementAt(random.Next(obj.Count)).Key;
                obj[key] = null;
                break;
        }
        return target;
    }

    /// <summary>Removes the node from its parent (a member or an element goes missing).</summary>
    private static JsonNode Remove(JsonNode target)
    {
        switch (target.Parent)
        {
            case JsonObject obj:
                obj.Remove(target.GetPropertyName());
                break;
            case JsonArray array:
                array.Remove(target);
                break;
        }
        return target;
    }

    private static void Replace(JsonNode target, JsonNode? replacement)
    {
        switch (target.Parent)
        {
            case JsonObject obj:
                obj[target.GetPropertyName()] = replacement;
                break;
            case JsonArray array:
                array[target.GetElementIndex()] = replacement;
                break;
        }
    }

    /// <summary>Valid JSON text for a document, for the seeds list.</summary>
    public static string Serialize<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Serialize(value, typeInfo);
}
