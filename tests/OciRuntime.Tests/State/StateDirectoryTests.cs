using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Tests.State;

public sealed class StateDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crioci-state-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Paths_IdUnderRoot_NameTheStandardFiles()
    {
        var state = new StateDirectory(_root, "c1");

        Assert.Equal(Path.Combine(_root, "c1"), state.Path);
        Assert.Equal(Path.Combine(_root, "c1", "state.json"), state.StateFile);
        Assert.Equal(Path.Combine(_root, "c1", "exit.json"), state.ExitFile);
        Assert.Equal(Path.Combine(_root, "c1", "exec.fifo"), state.ExecFifo);
    }

    [Fact]
    public void ReadState_NothingWritten_ReturnsNullAndDoesNotExist()
    {
        var state = new StateDirectory(_root, "missing");

        Assert.False(state.Exists);
        Assert.Null(state.ReadState());
        Assert.Null(state.ReadExit());
    }

    [Fact]
    public void WriteState_ThenRead_RoundTrips()
    {
        var state = new StateDirectory(_root, "c1");
        Directory.CreateDirectory(state.Path);
        var written = new ContainerStateFile("c1", "/bundles/c1", 4242, 987654321UL,
            new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(7),
            new Dictionary<string, string> { ["io.kubernetes.cri.container-type"] = "container" });

        state.WriteState(written);
        var read = state.ReadState();

        Assert.True(state.Exists);
        Assert.NotNull(read);
        Assert.Equal(written.Id, read.Id);
        Assert.Equal(written.Bundle, read.Bundle);
        Assert.Equal(written.InitPid, read.InitPid);
        Assert.Equal(written.InitStartTime, read.InitStartTime);
        Assert.Equal(written.Created, read.Created);
        Assert.Equal(written.Annotations, read.Annotations);
    }

    [Fact]
    public void WriteExit_ThenRead_RoundTrips()
    {
        var state = new StateDirectory(_root, "c2");
        Directory.CreateDirectory(state.Path);
        var written = new ContainerExitFile(137, 9, new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero), OomKilled: true);

        state.WriteExit(written);

        Assert.Equal(written, state.ReadExit());
    }

    [Fact]
    public void WriteState_Twice_LeavesOnlyTheFinalFiles()
    {
        var state = new StateDirectory(_root, "c3");
        Directory.CreateDirectory(state.Path);
        var first = new ContainerStateFile("c3", "/b", 1, 2, DateTimeOffset.UnixEpoch, null);

        state.WriteState(first);
        state.WriteState(first with { InitPid = 3 });

        Assert.Equal(3, state.ReadState()!.InitPid);
        Assert.Equal(["state.json"], Directory.GetFiles(state.Path).Select(Path.GetFileName));
    }
}
