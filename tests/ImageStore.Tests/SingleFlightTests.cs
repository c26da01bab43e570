namespace CriOci.ImageStore.Tests;

public sealed class SingleFlightTests
{
    [Fact]
    public async Task RunAsync_ConcurrentCallersOfOneKey_RunWorkOnce()
    {
        // Arrange
        var flight = new SingleFlight<int>();
        var release = new TaskCompletionSource();
        var runs = 0;
        async Task<int> Work(CancellationToken token)
        {
            Interlocked.Increment(ref runs);
            await release.Task.WaitAsync(token);
            return 42;
        }

        // Act
        var callers = Enumerable.Range(0, 10).Select(_ => flight.RunAsync("key", Work, CancellationToken.None)).ToList();
        release.SetResult();
        var results = await Task.WhenAll(callers);

        // Assert
        Assert.Equal(1, runs);
        Assert.All(results, r => Assert.Equal(42, r));
    }

    [Fact]
    public async Task RunAsync_OneOfTwoCallersCancels_WorkContinuesForTheOther()
    {
        // Arrange
        var flight = new SingleFlight<int>();
        var release = new TaskCompletionSource();
        var workCancelled = false;
        async Task<int> Work(CancellationToken token)
        {
            await using var registration = token.Register(() => workCancelled = true);
            await release.Task;
            return 7;
        }
        using var impatient = new CancellationTokenSource();
        var first = flight.RunAsync("key", Work, impatient.Token);
        var second = flight.RunAsync("key", Work, CancellationToken.None);

        // Act
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        release.SetResult();

        // Assert
        Assert.Equal(7, await second);
        Assert.False(workCancelled);
    }

    [Fact]
    public async Task RunAsync_EveryCallerCancels_WorkIsCancelled()
    {
        // Arrange
        var flight = new SingleFlight<int>();
        var workCancelled = new TaskCompletionSource();
        async Task<int> Work(CancellationToken token)
        {
            await using var registration = token.Register(() => workCancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, token);
            return 0;
        }
        using var cancellation = new CancellationTokenSource();
        var caller = flight.RunAsync("key", Work, cancellation.Token);

        // Act
        await cancellation.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => caller);
        await workCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task RunAsync_AfterCompletion_RunsAgain()
    {
        // Arrange
        var flight = new SingleFlight<int>();
        var runs = 0;
        Task<int> Work(CancellationToken token) => Task.FromResult(Interlocked.Increment(ref runs));

        // Act
        var first = await flight.RunAsync("key", Work, CancellationToken.None);
        var second = await flight.RunAsync("key", Work, CancellationToken.None);

        // Assert
        Assert.Equal((1, 2), (first, second));
    }
}
