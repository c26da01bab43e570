using System.Text;
using System.Text.Json;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Tests.State;

/// <summary>
/// The hand-written state.json/exit.json form against System.Text.Json's serializer, which wrote
/// these files before: the same bytes out, and each reads what the other wrote. exit.json's
/// writer, ExitRecord, has its own tests (ExitRecordTests).
/// </summary>
public sealed class StateJsonTests
{
    public static TheoryData<ContainerStateFile> States => new()
    {
        new ContainerStateFile("c1", "/bundles/c1", 4242, 987654321UL,
            new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(7),
            new Dictionary<string, string> { ["io.kubernetes.cri.container-type"] = "container", ["note"] = "quote \" slash \\ tab \t é <tag> +" },
            MonitorPid: 77, MonitorStartTime: 18446744073709551615UL, CgroupPath: "/kubepods/pod1/c1"),
        new ContainerStateFile("minimal", "/b", 1, 0, DateTimeOffset.UnixEpoch, null),
        new ContainerStateFile("offset", "/b ü", int.MaxValue, 5, new DateTimeOffset(2030, 12, 31, 23, 59, 59, TimeSpan.FromHours(-5)).AddTicks(1234567),
            new Dictionary<string, string>(), CgroupPath: "/crioci/offset"),
    };

    public static TheoryData<ContainerExitFile> Exits => new()
    {
        new ContainerExitFile(137, 9, new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero), OomKilled: true),
        new ContainerExitFile(0, 0, new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.FromHours(2)).AddTicks(99), OomKilled: false),
        new ContainerExitFile(-1, 0, DateTimeOffset.UnixEpoch, false),
    };

    [Theory]
    [MemberData(nameof(States))]
    public void WriteState_SameBytesAsTheSerializer(ContainerStateFile state)
    {
        var expected = JsonSerializer.SerializeToUtf8Bytes(state, OciJsonContext.Default.ContainerStateFile);

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(StateJson.Write(state)));
    }

    [Theory]
    [MemberData(nameof(States))]
    public void ReadState_WhatTheSerializerWrote_EqualsTheOriginal(ContainerStateFile state)
    {
        var read = StateJson.ReadState(JsonSerializer.SerializeToUtf8Bytes(state, OciJsonContext.Default.ContainerStateFile));

        AssertSameState(state, read);
    }

    [Theory]
    [MemberData(nameof(States))]
    public void SerializerReadsWhatWriteStateWrote(ContainerStateFile state)
    {
        var read = JsonSerializer.Deserialize(StateJson.Write(state), OciJsonContext.Default.ContainerStateFile);

        AssertSameState(state, read);
    }

    [Theory]
    [MemberData(nameof(Exits))]
    public void ReadExit_WhatTheSerializerWrote_EqualsTheOriginal(ContainerExitFile exit)
    {
        var read = StateJson.ReadExit(JsonSerializer.SerializeToUtf8Bytes(exit, OciJsonContext.Default.ContainerExitFile));

        Assert.Equal(exit, read);
        Assert.Equal(exit.FinishedAt.Offset, read!.FinishedAt.Offset);
    }

    [Fact]
    public void ReadState_UnknownPropertiesAndCompactForm_AreAccepted()
    {
        var json = """{"future":{"nested":[1,2,{"x":null}]},"id":"c9","bundle":"/b","initPid":5,"initStartTime":6,"created":"2024-01-02T03:04:05Z","annotations":null,"extra":true}"""u8;

        var read = StateJson.ReadState(json);

        Assert.NotNull(read);
        Assert.Equal(("c9", "/b", 5, 6UL), (read.Id, read.Bundle, read.InitPid, read.InitStartTime));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), read.Created);
        Assert.Null(read.Annotations);
        Assert.Null(read.CgroupPath);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"id\": \"c\"}")]
    [InlineData("{\"id\": \"c\", \"bundle\": \"/b\", \"initPid\": \"12\"}")]
    [InlineData("{\"id\": \"c\", \"bundle\": \"/b\"")]
    [InlineData("{\"id\": \"c\", \"bundle\": \"/b\", \"created\": \"yesterday\"}")]
    public void ReadState_NotAStateRecord_ThrowsJsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => StateJson.ReadState(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void ReadState_JsonNull_IsNull()
    {
        Assert.Null(StateJson.ReadState("null"u8));
        Assert.Null(StateJson.ReadExit("null"u8));
    }

    private static void AssertSameState(ContainerStateFile expected, ContainerStateFile? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Bundle, actual.Bundle);
        Assert.Equal(expected.InitPid, actual.InitPid);
        Assert.Equal(expected.InitStartTime, actual.InitStartTime);
        Assert.Equal(expected.Created, actual.Created);
        Assert.Equal(expected.Created.Offset, actual.Created.Offset);
        Assert.Equal(expected.Annotations, actual.Annotations);
        Assert.Equal(expected.MonitorPid, actual.MonitorPid);
        Assert.Equal(expected.MonitorStartTime, actual.MonitorStartTime);
        Assert.Equal(expected.CgroupPath, actual.CgroupPath);
    }
}
