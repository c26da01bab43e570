using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Spec;

/// <summary>
/// RuntimeSpecReader must read config.json exactly as OciJsonContext does. The spec built here
/// sets every property of every spec type (found by reflection, so a property added later is
/// set too); a property the reader does not know comes back missing and fails the comparison.
/// </summary>
public sealed class RuntimeSpecReaderTests
{
    [Fact]
    public void Read_SpecWithEveryPropertySet_ReadsAsOciJsonContextDoes()
    {
        var json = JsonSerializer.Serialize(FullyPopulated.Create<RuntimeSpec>(), OciJsonContext.Default.RuntimeSpec);

        var read = RuntimeSpecReader.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal(json, JsonSerializer.Serialize(read, OciJsonContext.Default.RuntimeSpec));
        Assert.Equal(json, JsonSerializer.Serialize(JsonSerializer.Deserialize(json, OciJsonContext.Default.RuntimeSpec), OciJsonContext.Default.RuntimeSpec));
    }

    [Fact]
    public void ReadProcess_ProcessWithEveryPropertySet_ReadsAsOciJsonContextDoes()
    {
        var json = JsonSerializer.Serialize(FullyPopulated.Create<ProcessSpec>(), OciJsonContext.Default.ProcessSpec);

        var read = RuntimeSpecReader.ReadProcess(Encoding.UTF8.GetBytes(json));

        Assert.Equal(json, JsonSerializer.Serialize(read, OciJsonContext.Default.ProcessSpec));
    }

    [Fact]
    public void ReadHooks_SpecWithEveryPropertySet_HasTheHooksAndAnnotationsReadGives()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(FullyPopulated.Create<RuntimeSpec>(), OciJsonContext.Default.RuntimeSpec);
        var whole = RuntimeSpecReader.Read(json)!;

        var hooks = RuntimeSpecReader.ReadHooks(json);

        Assert.NotNull(hooks);
        Assert.Equal(JsonSerializer.Serialize(whole.Hooks, OciJsonContext.Default.HooksSpec), JsonSerializer.Serialize(hooks.Hooks, OciJsonContext.Default.HooksSpec));
        Assert.Equal(whole.Annotations, hooks.Annotations);
    }

    [Theory]
    [InlineData("null", false)]
    [InlineData("""{"ociVersion":"1.2.0","process":{"args":["sh"]}}""", true)]
    public void ReadHooks_NoHooks_IsNullOrHasNone(string config, bool isObject)
    {
        var hooks = RuntimeSpecReader.ReadHooks(Encoding.UTF8.GetBytes(config));

        Assert.Equal(isObject, hooks is not null);
        Assert.Null(hooks?.Hooks);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""{"hooks":{"poststart":[{"args":["x"]}]}}""")]
    [InlineData("""{"hooks":{"poststart":[{"path":"/bin/true"}]}""")]
    public void ReadHooks_NotAConfigOrABadHook_ThrowsJsonException(string config)
    {
        Assert.ThrowsAny<JsonException>(() => RuntimeSpecReader.ReadHooks(Encoding.UTF8.GetBytes(config)));
    }

    /// <summary>The comparison above means something only if the spec really has every property set.</summary>
    [Fact]
    public void FullyPopulated_LeavesNoPropertyOfAnySpecTypeUnset()
    {
        var unset = FullyPopulated.UnsetProperties(FullyPopulated.Create<RuntimeSpec>()).ToList();

        Assert.Empty(unset);
    }

    /// <summary>The corners where a hand-written reader most easily differs: nulls, duplicates, names, numbers, document framing.</summary>
    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData(" {\"hostname\":\"h\"} \n")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"config\"")]
    [InlineData("{} {}")]
    [InlineData("{}x")]
    [InlineData("\uFEFF{}")]
    [InlineData("{/*c*/}")]
    [InlineData("{\"hostname\":\"h\",}")]
    [InlineData("{\"ociVersion\":\"a\",\"ociVersion\":\"b\"}")]
    [InlineData("{\"ociVersion\":null}")]
    [InlineData("{\"OciVersion\":\"x\",\"HOSTNAME\":\"y\"}")]
    [InlineData("{\"ociVers\\u0069on\":\"escaped\"}")]
    [InlineData("{\"unknown\":{\"a\":[1,{\"b\":null}],\"c\":true},\"hostname\":\"h\"}")]
    [InlineData("{\"annotations\":{\"a\":\"1\",\"a\":\"2\",\"b\":null}}")]
    [InlineData("{\"annotations\":[]}")]
    [InlineData("{\"annotations\":{\"a\":1}}")]
    [InlineData("{\"root\":{\"readonly\":true}}")]
    [InlineData("{\"root\":{\"path\":null}}")]
    [InlineData("{\"root\":{\"path\":\"r\",\"readonly\":null}}")]
    [InlineData("{\"root\":{\"path\":\"r\",\"readonly\":1}}")]
    [InlineData("{\"root\":{\"path\":\"r\",\"readonly\":\"true\"}}")]
    [InlineData("{\"root\":null,\"process\":null,\"linux\":null,\"mounts\":null,\"hooks\":null}")]
    [InlineData("{\"root\":[]}")]
    [InlineData("{\"mounts\":[null,{\"destination\":\"/d\",\"options\":[null,\"ro\"]}]}")]
    [InlineData("{\"mounts\":{}}")]
    [InlineData("{\"mounts\":[{\"type\":\"bind\"}]}")]
    [InlineData("{\"process\":{\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":null,\"cwd\":null}}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":1.0},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":1e2},\"cwd\":\"/\"}}")]
    [InlineData("{\"hostname\":1}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":-1},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":4294967296},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":\"1\"},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"uid\":null},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"umask\":null,\"additionalGids\":[1,2]},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{\"additionalGids\":[null]},\"cwd\":\"/\"}}")]
    [InlineData("{\"process\":{\"user\":{},\"cwd\":\"/\",\"oomScoreAdj\":-1000,\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615}]}}")]
    [InlineData("{\"process\":{\"user\":{},\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551616}]}}")]
    [InlineData("{\"linux\":{\"uidMappings\":[{\"containerId\":1,\"hostID\":2,\"size\":3}]}}")]
    [InlineData("{\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":-5,\"nanosecs\":1},\"boottime\":null}}}")]
    [InlineData("{\"linux\":{\"resources\":{\"memory\":{\"disableOOMKiller\":true,\"limit\":null},\"pids\":{\"limit\":null}}}}")]
    [InlineData("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":null,\"action\":\"SCMP_ACT_ERRNO\"}]}}}")]
    [InlineData("{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}}}")]
    public void Read_EdgeCaseDocument_AgreesWithOciJsonContext(string config)
    {
        var bytes = Encoding.UTF8.GetBytes(config);

        var expected = Outcome(() => JsonSerializer.Deserialize(bytes, OciJsonContext.Default.RuntimeSpec));
        var actual = Outcome(() => RuntimeSpecReader.Read(bytes));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Read_NestedDeeperThanTheContextAllows_IsRejectedLikeTheContext()
    {
        var config = "{\"unknown\":" + new string('[', 80) + new string(']', 80) + "}";
        var bytes = Encoding.UTF8.GetBytes(config);

        Assert.Equal("JsonException", Outcome(() => JsonSerializer.Deserialize(bytes, OciJsonContext.Default.RuntimeSpec)));
        Assert.Equal("JsonException", Outcome(() => RuntimeSpecReader.Read(bytes)));
    }

    [Fact]
    public void Read_StringThatIsNotUtf8_IsRejectedLikeTheContext()
    {
        byte[] bytes = [.. "{\"hostname\":\"a"u8, 0xff, 0xfe, .. "\"}"u8];

        Assert.Equal("JsonException", Outcome(() => JsonSerializer.Deserialize(bytes, OciJsonContext.Default.RuntimeSpec)));
        Assert.Equal("JsonException", Outcome(() => RuntimeSpecReader.Read(bytes)));
    }

    /// <summary>The spec as the context writes it, or JsonException for a rejected document (any other exception fails the test).</summary>
    internal static string Outcome(Func<RuntimeSpec?> read)
    {
        try
        {
            return JsonSerializer.Serialize(read(), OciJsonContext.Default.RuntimeSpec);
        }
        catch (JsonException)
        {
            return nameof(JsonException);
        }
    }

    /// <summary>Builds spec objects with every property set to a non-default value, by reflection over the spec types.</summary>
    private static class FullyPopulated
    {
        public static T Create<T>() => (T)Create(typeof(T), seed: 1);

        public static IEnumerable<string> UnsetProperties(object value)
        {
            foreach (var property in SpecProperties(value.GetType()))
            {
                var propertyValue = property.GetValue(value);
                if (propertyValue is null || propertyValue.Equals(Default(property.PropertyType)) || propertyValue is ICollection { Count: 0 })
                {
                    yield return $"{value.GetType().Name}.{property.Name}";
                    continue;
                }
                var children = propertyValue switch
                {
                    IDictionary map => map.Values.Cast<object>(),
                    IEnumerable list and not string => list.Cast<object>(),
                    _ => [propertyValue],
                };
                foreach (var child in children.Where(child => IsSpecType(child.GetType())))
                {
                    foreach (var unset in UnsetProperties(child))
                    {
                        yield return unset;
                    }
                }
            }
        }

        private static object Create(Type type, int seed)
        {
            var value = Activator.CreateInstance(type)!;
            foreach (var property in SpecProperties(type))
            {
                property.SetValue(value, ValueOf(property.PropertyType, ++seed * 7));
            }
            return value;
        }

        private static object ValueOf(Type type, int seed)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type == typeof(string))
            {
                return $"value-{seed}";
            }
            if (type == typeof(bool))
            {
                return true;
            }
            if (type.IsPrimitive)
            {
                return Convert.ChangeType(seed, type, System.Globalization.CultureInfo.InvariantCulture);
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
            {
                var element = type.GetGenericArguments()[0];
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
                list.Add(ValueOf(element, seed + 1));
                list.Add(ValueOf(element, seed + 2));
                return list;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
            {
                var element = type.GetGenericArguments()[1];
                var map = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), element))!;
                map[$"key-{seed}"] = ValueOf(element, seed + 1);
                map[$"key-{seed + 1}"] = ValueOf(element, seed + 2);
                return map;
            }
            if (IsSpecType(type))
            {
                return Create(type, seed);
            }
            throw new NotSupportedException($"the spec has a property of type {type}: teach FullyPopulated (and RuntimeSpecReader) about it");
        }

        private static bool IsSpecType(Type type) => type.Namespace == typeof(RuntimeSpec).Namespace && type.IsClass && !type.IsAbstract;

        /// <summary>The properties the context serializes: public, instance, with a setter (records' EqualityContract is protected).</summary>
        private static IEnumerable<PropertyInfo> SpecProperties(Type type) =>
            type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.SetMethod is not null);

        private static object? Default(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
    }
}
