namespace CriOci.PodSandbox.Tests;

public sealed class KeyedLocksTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task AcquireAsync_SameKeyHeld_WaitsForRelease()
    {
        var locks = new KeyedLocks();
        var first = await locks.AcquireAsync("pod", CancellationToken.None);

        var second = locks.AcquireAsync("pod", CancellationToken.None);
        await Task.Delay(Short);
        var waitedWhileHeld = !second.IsCompleted;
        first.Dispose();
        using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(waitedWhileHeld);
    }

    [Fact]
    public async Task AcquireAsync_DifferentKeys_DoNotBlockEachOther()
    {
        var locks = new KeyedLocks();
        using var first = await locks.AcquireAsync("pod-a", CancellationToken.None);

        var second = locks.AcquireAsync("pod-b", CancellationToken.None);

        using var acquired = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(second.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Dispose_Twice_ReleasesOnlyOnce()
    {
        var locks = new KeyedLocks();
        var first = await locks.AcquireAsync("c", CancellationToken.None);
        var second = locks.AcquireAsync("c", CancellationToken.None);
        var third = locks.AcquireAsync("c", CancellationToken.None);

        first.Dispose();
        first.Dispose();
        using var secondHeld = await second.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(Short);

        Assert.False(third.IsCompleted, "a double Dispose let two callers hold the lock");
        secondHeld.Dispose();
        using var thirdHeld = await third.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_ThrowsAndDoesNotTakeTheLock()
    {
        var locks = new KeyedLocks();
        var held = await locks.AcquireAsync("c", CancellationToken.None);
        using var cancellation = new CancellationTokenSource();

        var waiting = locks.AcquireAsync("c", cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held.Dispose();

        using var next = await locks.AcquireAsync("c", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Forget_ReleasedKey_NextAcquireWorks()
    {
        var locks = new KeyedLocks();
        (await locks.AcquireAsync("gone", CancellationToken.None)).Dispose();

        locks.Forget("gone");
        locks.Forget("never-seen");

        using var again = await locks.AcquireAsync("gone", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }
}
