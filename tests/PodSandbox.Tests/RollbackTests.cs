using CriOci.PodSandbox.Tests.Fakes;

namespace CriOci.PodSandbox.Tests;

public sealed class RollbackTests
{
    [Fact]
    public async Task RunAsync_SeveralSteps_UndoesInReverseOrder()
    {
        var calls = new List<string>();
        var rollback = new Rollback(new RecordingLogger());
        rollback.Push("first", () => calls.Add("first"));
        rollback.Push("second", async () =>
        {
            await Task.Yield();
            calls.Add("second");
        });
        rollback.Push("third", () => calls.Add("third"));

        await rollback.RunAsync();

        Assert.Equal(["third", "second", "first"], calls);
    }

    [Fact]
    public async Task RunAsync_FailingStep_LogsItAndContinues()
    {
        var calls = new List<string>();
        var logger = new RecordingLogger();
        var rollback = new Rollback(logger);
        rollback.Push("first", () => calls.Add("first"));
        rollback.Push("breaks", () => throw new IOException("disk gone"));
        rollback.Push("async breaks", () => Task.FromException(new InvalidOperationException("nope")));
        rollback.Push("last", () => calls.Add("last"));

        await rollback.RunAsync();

        Assert.Equal(["last", "first"], calls);
        Assert.Equal(2, logger.Entries.Count);
        Assert.All(logger.Entries, e => Assert.Equal(2001, e.EventId.Id));
        Assert.Equal("Rollback step 'async breaks' failed", logger.Entries[0].Message);
        Assert.IsType<InvalidOperationException>(logger.Entries[0].Exception);
        Assert.Equal("Rollback step 'breaks' failed", logger.Entries[1].Message);
        Assert.IsType<IOException>(logger.Entries[1].Exception);
    }

    [Fact]
    public async Task RunAsync_AfterCommit_UndoesNothing()
    {
        var calls = new List<string>();
        var rollback = new Rollback(new RecordingLogger());
        rollback.Push("first", () => calls.Add("first"));

        rollback.Commit();
        await rollback.RunAsync();

        Assert.Empty(calls);
    }

    [Fact]
    public async Task RunAsync_Twice_UndoesEachStepOnce()
    {
        var calls = new List<string>();
        var rollback = new Rollback(new RecordingLogger());
        rollback.Push("only", () => calls.Add("only"));

        await rollback.RunAsync();
        await rollback.RunAsync();

        Assert.Equal(["only"], calls);
    }
}
