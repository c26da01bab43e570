using System.Text.Json;
using static CriOci.OciRuntime.Spec.SpecJsonValues;

namespace CriOci.OciRuntime.Spec;

/// <summary>
/// Reads config.json (and an exec's process.json) straight off a Utf8JsonReader, for the
/// short-lived crioci-runtime processes that read one spec and exit. Deserializing through
/// OciJsonContext costs about 2.7 ms on the first call of each NativeAOT process, nearly all of
/// it building the context's metadata for the ~50 types a RuntimeSpec reaches (per type,
/// System.Text.Json reads custom attributes through reflection to look for polymorphism and
/// asks each converter's Type.Assembly); create pays it in the CLI and again in init. This
/// reader builds no metadata. It accepts and produces exactly what the context does (same
/// names, nulls, required properties, duplicate and unknown properties; a JSON null gives a
/// null and a missing property its type's default, with no initializer defaults), and
/// RuntimeSpecReaderTests holds it to that: a spec with every property set must read the same
/// through both, so a property added to the spec types and not here fails the tests.
/// Writing stays with OciJsonContext.
/// </summary>
internal static partial class RuntimeSpecReader
{
    /// <summary>A whole config.json; null for the JSON literal null, as JsonSerializer.Deserialize gives.</summary>
    public static RuntimeSpec? Read(ReadOnlySpan<byte> json) => ReadDocument(json, RuntimeSpec);

    /// <summary>A process.json as `exec --process` and ExecInit take it.</summary>
    public static ProcessSpec? ReadProcess(ReadOnlySpan<byte> json) => ReadDocument(json, Process);

    /// <summary>
    /// Only what a hook is run with: config.json's hooks and annotations, every other property
    /// skipped unread. For `start` and `delete`, whose poststart and poststop hooks come from
    /// the bundle's config.json but which need nothing else of it.
    /// </summary>
    public static SpecHooks? ReadHooks(ReadOnlySpan<byte> json) => ReadDocument(json, HooksAndAnnotations);

    private static T? ReadDocument<T>(ReadOnlySpan<byte> json, ValueReader<T?> root)
        where T : class
    {
        var reader = new Utf8JsonReader(json);
        try
        {
            Next(ref reader);
            var value = root(ref reader);
            // One value and nothing after it but whitespace; the reader throws for anything else.
            reader.Read();
            return value;
        }
        catch (InvalidOperationException exception)
        {
            // Utf8JsonReader.GetString's answer to a string that is not valid UTF-8; the context
            // reports it as a JsonException, and so must this reader.
            throw new JsonException($"{exception.Message} (at byte {reader.TokenStartIndex})", exception);
        }
    }

    private static RuntimeSpec? RuntimeSpec(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(Spec.RuntimeSpec)))
        {
            return null;
        }
        string? ociVersion = null, hostname = null, domainname = null;
        ProcessSpec? process = null;
        RootSpec? root = null;
        IReadOnlyList<MountSpec>? mounts = null;
        HooksSpec? hooks = null;
        IReadOnlyDictionary<string, string>? annotations = null;
        LinuxSpec? linux = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "ociVersion"u8)) { ociVersion = String(ref reader); }
            else if (Is(ref reader, "process"u8)) { process = Process(ref reader); }
            else if (Is(ref reader, "root"u8)) { root = Root(ref reader); }
            else if (Is(ref reader, "hostname"u8)) { hostname = String(ref reader); }
            else if (Is(ref reader, "domainname"u8)) { domainname = String(ref reader); }
            else if (Is(ref reader, "mounts"u8)) { mounts = List<MountSpec>(ref reader, Mount); }
            else if (Is(ref reader, "hooks"u8)) { hooks = Hooks(ref reader); }
            else if (Is(ref reader, "annotations"u8)) { annotations = StringMap(ref reader); }
            else if (Is(ref reader, "linux"u8)) { linux = Linux(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new RuntimeSpec
        {
            OciVersion = ociVersion!, Process = process, Root = root, Hostname = hostname, Domainname = domainname,
            Mounts = mounts, Hooks = hooks, Annotations = annotations, Linux = linux,
        };
    }

    private static SpecHooks? HooksAndAnnotations(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(Spec.RuntimeSpec)))
        {
            return null;
        }
        HooksSpec? hooks = null;
        IReadOnlyDictionary<string, string>? annotations = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "hooks"u8)) { hooks = Hooks(ref reader); }
            else if (Is(ref reader, "annotations"u8)) { annotations = StringMap(ref reader); }
            else { SkipValue(ref reader); }
        }
        return new SpecHooks(hooks, annotations);
    }

    private static RootSpec? Root(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(RootSpec)))
        {
            return null;
        }
        string? path = null;
        bool hasPath = false, readOnly = false;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "path"u8)) { path = String(ref reader); hasPath = true; }
            else if (Is(ref reader, "readonly"u8)) { readOnly = Bool(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasPath, nameof(RootSpec), "path");
        return new RootSpec { Path = path!, Readonly = readOnly };
    }

    private static MountSpec? Mount(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(MountSpec)))
        {
            return null;
        }
        string? destination = null, type = null, source = null;
        var hasDestination = false;
        IReadOnlyList<string>? options = null;
        IReadOnlyList<IdMappingSpec>? uidMappings = null, gidMappings = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "destination"u8)) { destination = String(ref reader); hasDestination = true; }
            else if (Is(ref reader, "type"u8)) { type = String(ref reader); }
            else if (Is(ref reader, "source"u8)) { source = String(ref reader); }
            else if (Is(ref reader, "options"u8)) { options = Strings(ref reader); }
            else if (Is(ref reader, "uidMappings"u8)) { uidMappings = List<IdMappingSpec>(ref reader, IdMapping); }
            else if (Is(ref reader, "gidMappings"u8)) { gidMappings = List<IdMappingSpec>(ref reader, IdMapping); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasDestination, nameof(MountSpec), "destination");
        return new MountSpec
        {
            Destination = destination!, Type = type, Source = source, Options = options, UidMappings = uidMappings, GidMappings = gidMappings,
        };
    }

    private static HooksSpec? Hooks(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(HooksSpec)))
        {
            return null;
        }
        IReadOnlyList<HookSpec>? prestart = null, createRuntime = null, createContainer = null, startContainer = null, poststart = null, poststop = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "prestart"u8)) { prestart = List<HookSpec>(ref reader, Hook); }
            else if (Is(ref reader, "createRuntime"u8)) { createRuntime = List<HookSpec>(ref reader, Hook); }
            else if (Is(ref reader, "createContainer"u8)) { createContainer = List<HookSpec>(ref reader, Hook); }
            else if (Is(ref reader, "startContainer"u8)) { startContainer = List<HookSpec>(ref reader, Hook); }
            else if (Is(ref reader, "poststart"u8)) { poststart = List<HookSpec>(ref reader, Hook); }
            else if (Is(ref reader, "poststop"u8)) { poststop = List<HookSpec>(ref reader, Hook); }
            else { SkipValue(ref reader); }
        }
        return new HooksSpec
        {
            Prestart = prestart, CreateRuntime = createRuntime, CreateContainer = createContainer,
            StartContainer = startContainer, Poststart = poststart, Poststop = poststop,
        };
    }

    private static HookSpec? Hook(ref Utf8JsonReader reader)
    {
        if (!StartObject(ref reader, nameof(HookSpec)))
        {
            return null;
        }
        string? path = null;
        var hasPath = false;
        IReadOnlyList<string>? args = null, env = null;
        int? timeout = null;
        while (NextProperty(ref reader))
        {
            if (Is(ref reader, "path"u8)) { path = String(ref reader); hasPath = true; }
            else if (Is(ref reader, "args"u8)) { args = Strings(ref reader); }
            else if (Is(ref reader, "env"u8)) { env = Strings(ref reader); }
            else if (Is(ref reader, "timeout"u8)) { timeout = NullableInt32(ref reader); }
            else { SkipValue(ref reader); }
        }
        Require(ref reader, hasPath, nameof(HookSpec), "path");
        return new HookSpec { Path = path!, Args = args, Env = env, Timeout = timeout };
    }
}
