using System.Text.Json;

namespace CriOci.OciRuntime.Spec;

/// <summary>
/// The value readers RuntimeSpecReader is built from. Each takes the reader positioned on a
/// value and leaves it on the value's last token, and accepts exactly what System.Text.Json's
/// own converters accept for OciJsonContext: numbers only as JSON numbers that fit the type,
/// null for strings, lists, maps and objects (and nullable numbers), nothing else.
/// </summary>
internal static class SpecJsonValues
{
    public delegate T ValueReader<out T>(ref Utf8JsonReader reader);

    /// <summary>Moves to the next token; input that ends early is the reader's own JsonException.</summary>
    public static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw Invalid(ref reader, "the document ends early");
        }
    }

    /// <summary>Enters an object; false for a JSON null.</summary>
    public static bool StartObject(ref Utf8JsonReader reader, string type)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(ref reader, $"{type} must be an object");
        }
        return true;
    }

    /// <summary>Moves onto the next property name of the object; false at its end.</summary>
    public static bool NextProperty(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>True, and moved onto the value, when the current property is <paramref name="name"/> (case-sensitive, as the context matches).</summary>
    public static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (!reader.ValueTextEquals(name))
        {
            return false;
        }
        Next(ref reader);
        return true;
    }

    /// <summary>A property the spec types do not have is ignored, like the context's default unmapped-member handling.</summary>
    public static void SkipValue(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        reader.Skip();
    }

    public static void Require(ref Utf8JsonReader reader, bool present, string type, string property)
    {
        if (!present)
        {
            throw Invalid(ref reader, $"{type} is missing its required property '{property}'");
        }
    }

    /// <summary>
    /// A string, or null for JSON null even where the property is not nullable: the context
    /// does not enforce nullable annotations, and the checks after parsing report the null.
    /// </summary>
    public static string String(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Null => null!,
        JsonTokenType.String => reader.GetString()!,
        _ => throw Invalid(ref reader, "expected a string"),
    };

    public static bool Bool(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Invalid(ref reader, "expected true or false"),
    };

    public static bool? NullableBool(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null ? null : Bool(ref reader);

    public static int Int32(ref Utf8JsonReader reader) => Number(ref reader) && reader.TryGetInt32(out var value) ? value : throw NotA(ref reader, "32-bit integer");

    public static uint UInt32(ref Utf8JsonReader reader) => Number(ref reader) && reader.TryGetUInt32(out var value) ? value : throw NotA(ref reader, "32-bit unsigned integer");

    public static long Int64(ref Utf8JsonReader reader) => Number(ref reader) && reader.TryGetInt64(out var value) ? value : throw NotA(ref reader, "64-bit integer");

    public static ulong UInt64(ref Utf8JsonReader reader) => Number(ref reader) && reader.TryGetUInt64(out var value) ? value : throw NotA(ref reader, "64-bit unsigned integer");

    public static int? NullableInt32(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null ? null : Int32(ref reader);

    public static uint? NullableUInt32(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null ? null : UInt32(ref reader);

    public static long? NullableInt64(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null ? null : Int64(ref reader);

    public static ulong? NullableUInt64(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null ? null : UInt64(ref reader);

    /// <summary>A JSON array as a List (what the context makes for IReadOnlyList); a null element stays null, as String does.</summary>
    public static List<T>? List<T>(ref Utf8JsonReader reader, ValueReader<T?> element)
        where T : class
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(ref reader, "expected an array");
        }
        var list = new List<T>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return list;
            }
            list.Add(element(ref reader)!);
        }
    }

    public static List<uint>? UInt32s(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Invalid(ref reader, "expected an array");
        }
        var list = new List<uint>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return list;
            }
            list.Add(UInt32(ref reader));
        }
    }

    /// <summary>A JSON object as a string-keyed Dictionary; a repeated key keeps its last value, as the context does.</summary>
    public static Dictionary<string, T>? Map<T>(ref Utf8JsonReader reader, ValueReader<T?> value)
        where T : class
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Invalid(ref reader, "expected an object");
        }
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            var key = reader.GetString()!;
            Next(ref reader);
            map[key] = value(ref reader)!;
        }
        return map;
    }

    public static List<string>? Strings(ref Utf8JsonReader reader) => List<string>(ref reader, String);

    public static Dictionary<string, string>? StringMap(ref Utf8JsonReader reader) => Map<string>(ref reader, String);

    private static bool Number(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Number;

    private static JsonException NotA(ref Utf8JsonReader reader, string type) => Invalid(ref reader, $"expected a {type}");

    public static JsonException Invalid(ref Utf8JsonReader reader, string problem) =>
        new($"{problem} (at byte {reader.TokenStartIndex})");
}
