using System.Buffers;
using System.Text.Json;

namespace CriOci.OciRuntime.State;

/// <summary>
/// state.json read and written, and exit.json read, by hand with Utf8JsonReader/Utf8JsonWriter:
/// the same text System.Text.Json's serializer writes for <see cref="ContainerStateFile"/> and
/// <see cref="ContainerExitFile"/> (camelCase, indented, nulls left out), so files written by
/// either still read. exit.json has one writer, <see cref="Monitor.ExitRecord"/>, which the
/// monitor uses too. The serializer builds its metadata for a type on first use, about half a
/// millisecond in every create, start and delete, each a process of its own.
/// </summary>
public static class StateJson
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    public static byte[] Write(ContainerStateFile state)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, state.Id);
            writer.WriteString("bundle"u8, state.Bundle);
            writer.WriteNumber("initPid"u8, state.InitPid);
            writer.WriteNumber("initStartTime"u8, state.InitStartTime);
            writer.WriteString("created"u8, state.Created);
            if (state.Annotations is { } annotations)
            {
                writer.WriteStartObject("annotations"u8);
                foreach (var (key, value) in annotations)
                {
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            writer.WriteNumber("monitorPid"u8, state.MonitorPid);
            writer.WriteNumber("monitorStartTime"u8, state.MonitorStartTime);
            if (state.CgroupPath is { } cgroupPath)
            {
                writer.WriteString("cgroupPath"u8, cgroupPath);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The state record, or null for a JSON null; unknown properties are skipped, as the serializer did.</summary>
    /// <exception cref="JsonException">The text is not a state record.</exception>
    public static ContainerStateFile? ReadState(ReadOnlySpan<byte> json)
    {
        try
        {
            return ParseState(json);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException)
        {
            // A value of the wrong type: the serializer reported these as JsonException too.
            throw new JsonException($"state.json: {exception.Message}", exception);
        }
    }

    /// <summary>The exit record, or null for a JSON null.</summary>
    /// <exception cref="JsonException">The text is not an exit record.</exception>
    public static ContainerExitFile? ReadExit(ReadOnlySpan<byte> json)
    {
        try
        {
            return ParseExit(json);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException)
        {
            throw new JsonException($"exit.json: {exception.Message}", exception);
        }
    }

    private static ContainerStateFile? ParseState(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!StartObject(ref reader))
        {
            return null;
        }
        string? id = null, bundle = null, cgroupPath = null;
        int initPid = 0, monitorPid = 0;
        ulong initStartTime = 0, monitorStartTime = 0;
        DateTimeOffset created = default;
        Dictionary<string, string>? annotations = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = reader.GetString();
            }
            else if (reader.ValueTextEquals("bundle"u8))
            {
                reader.Read();
                bundle = reader.GetString();
            }
            else if (reader.ValueTextEquals("initPid"u8))
            {
                reader.Read();
                initPid = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("initStartTime"u8))
            {
                reader.Read();
                initStartTime = reader.GetUInt64();
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                created = reader.GetDateTimeOffset();
            }
            else if (reader.ValueTextEquals("annotations"u8))
            {
                reader.Read();
                annotations = ReadStringMap(ref reader);
            }
            else if (reader.ValueTextEquals("monitorPid"u8))
            {
                reader.Read();
                monitorPid = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("monitorStartTime"u8))
            {
                reader.Read();
                monitorStartTime = reader.GetUInt64();
            }
            else if (reader.ValueTextEquals("cgroupPath"u8))
            {
                reader.Read();
                cgroupPath = reader.GetString();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new ContainerStateFile(
            id ?? throw new JsonException("state.json has no id"),
            bundle ?? throw new JsonException("state.json has no bundle"),
            initPid, initStartTime, created, annotations, monitorPid, monitorStartTime, cgroupPath);
    }

    private static ContainerExitFile? ParseExit(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!StartObject(ref reader))
        {
            return null;
        }
        int exitCode = 0, signal = 0;
        DateTimeOffset finishedAt = default;
        var oomKilled = false;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("exitCode"u8))
            {
                reader.Read();
                exitCode = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("signal"u8))
            {
                reader.Read();
                signal = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("finishedAt"u8))
            {
                reader.Read();
                finishedAt = reader.GetDateTimeOffset();
            }
            else if (reader.ValueTextEquals("oomKilled"u8))
            {
                reader.Read();
                oomKilled = reader.GetBoolean();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new ContainerExitFile(exitCode, signal, finishedAt, oomKilled);
    }

    /// <summary>Reads to the document's first token: true at the start of an object, false for null.</summary>
    private static bool StartObject(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("empty document");
        }
        return reader.TokenType switch
        {
            JsonTokenType.StartObject => true,
            JsonTokenType.Null => false,
            var token => throw new JsonException($"expected an object, found {token}"),
        };
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("the document ends inside an object");
        }
        return reader.TokenType switch
        {
            JsonTokenType.PropertyName => true,
            JsonTokenType.EndObject => false,
            var token => throw new JsonException($"expected a property name, found {token}"),
        };
    }

    private static Dictionary<string, string>? ReadStringMap(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"annotations: expected an object, found {reader.TokenType}");
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            var key = reader.GetString()!;
            reader.Read();
            map[key] = reader.GetString() ?? throw new JsonException($"annotations.{key} is null");
        }
        return map;
    }
}
