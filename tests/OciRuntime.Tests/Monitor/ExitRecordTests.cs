using System.Text.Json;
using CriOci.OciRuntime.Monitor;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Tests.Monitor;

/// <summary>
/// exit.json's one writer (crioci-monitor's and the runtime's) works without System.Text.Json: for
/// a time in UTC it must be the very bytes the serializer writes, and for any time it must read
/// back as the same exit.
/// </summary>
public sealed class ExitRecordTests
{
    public static TheoryData<ContainerExitFile> Exits => new()
    {
        new ContainerExitFile(0, 0, new DateTimeOffset(2026, 11, 27, 18, 40, 1, TimeSpan.Zero), false),
        new ContainerExitFile(137, 9, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567), true),
        new ContainerExitFile(255, 0, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1000), false),
        new ContainerExitFile(-1, 31, new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9999990), false),
        new ContainerExitFile(1, 0, new DateTimeOffset(2026, 6, 1, 2, 0, 0, TimeSpan.FromHours(2)).AddTicks(50).ToUniversalTime(), false),
        new ContainerExitFile(3, 0, DateTimeOffset.UtcNow, false),
    };

    [Theory]
    [MemberData(nameof(Exits))]
    public void Serialize_AnyExit_IsByteForByteWhatTheSerializerWrites(ContainerExitFile exit)
    {
        var expected = JsonSerializer.SerializeToUtf8Bytes(exit, OciJsonContext.Default.ContainerExitFile);

        var written = ExitRecord.Serialize(exit);

        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(written));
    }

    public static TheoryData<ContainerExitFile> ExitsWithAnOffset => new()
    {
        new ContainerExitFile(0, 0, new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.FromHours(2)).AddTicks(99), OomKilled: false),
        new ContainerExitFile(137, 9, new DateTimeOffset(2030, 12, 31, 23, 59, 59, TimeSpan.FromHours(-5)).AddTicks(1234567), OomKilled: true),
        new ContainerExitFile(int.MinValue, int.MaxValue, new DateTimeOffset(1, 1, 1, 5, 30, 0, TimeSpan.FromMinutes(330)), false),
    };

    [Theory]
    [MemberData(nameof(ExitsWithAnOffset))]
    public void Serialize_FinishedAtWithAnOffset_IsTheSerializersTextForTheSameInstantInUtc(ContainerExitFile exit)
    {
        var inUtc = exit with { FinishedAt = exit.FinishedAt.ToUniversalTime() };
        var expected = JsonSerializer.SerializeToUtf8Bytes(inUtc, OciJsonContext.Default.ContainerExitFile);

        var written = ExitRecord.Serialize(exit);

        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(written));
    }

    [Theory]
    [MemberData(nameof(Exits))]
    [MemberData(nameof(ExitsWithAnOffset))]
    public void Serialize_AnyExit_ReadsBackEqualByBothReaders(ContainerExitFile exit)
    {
        var written = ExitRecord.Serialize(exit);

        Assert.Equal(exit, StateJson.ReadExit(written));
        Assert.Equal(exit, JsonSerializer.Deserialize(written, OciJsonContext.Default.ContainerExitFile));
    }

    [Fact]
    public void StateDirectoryWriteExit_WritesWhatTheMonitorWrites()
    {
        var root = Directory.CreateTempSubdirectory("crioci-exit-").FullName;
        try
        {
            var state = new StateDirectory(root, "c1");
            Directory.CreateDirectory(state.Path);
            var exit = new ContainerExitFile(255, 0, new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(9)).AddTicks(1), false);

            state.WriteExit(exit);

            Assert.Equal(ExitRecord.Serialize(exit), File.ReadAllBytes(state.ExitFile));
            Assert.Equal(exit, state.ReadExit());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Write_IntoAStateDirectory_ReadsBackEqualAndLeavesNoTemporaryFile()
    {
        var root = Directory.CreateTempSubdirectory("crioci-exit-").FullName;
        try
        {
            var state = new StateDirectory(root, "c1");
            Directory.CreateDirectory(state.Path);
            File.WriteAllText(state.ExitFile, "an older record");
            var exit = new ContainerExitFile(137, 9, DateTimeOffset.UtcNow, OomKilled: true);

            ExitRecord.Write(state.ExitFile, exit.ExitCode, exit.Signal, exit.FinishedAt, exit.OomKilled);

            Assert.Equal(exit, state.ReadExit());
            Assert.Equal(["exit.json"], Directory.GetFiles(state.Path).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
