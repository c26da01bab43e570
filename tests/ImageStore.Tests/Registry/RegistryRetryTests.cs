using CriOci.Core;
using CriOci.ImageStore.Registry;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore.Tests.Registry;

public sealed class RegistryRetryTests
{
    private static RegistryRetry Retry(int attempts) =>
        new(new RegistryRetryOptions(attempts, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20)), TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task RunAsync_TransientTwiceThenSuccess_ReturnsAfterThreeCalls()
    {
        // Arrange
        var calls = 0;

        // Act
        var result = await Retry(3).RunAsync(
            _ => ++calls < 3 ? throw RegistryRetry.MarkTransient(new UnavailableException("503")) : Task.FromResult(42), "op", CancellationToken.None);

        // Assert
        Assert.Equal((42, 3), (result, calls));
    }

    [Fact]
    public async Task RunAsync_AlwaysTransient_StopsAtBoundSayingSo()
    {
        // Arrange
        var calls = 0;

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(() => Retry(4).RunAsync<int>(
            _ => { calls++; throw RegistryRetry.MarkTransient(new UnavailableException("registry r answered 502")); }, "op", CancellationToken.None));

        // Assert
        Assert.Equal(4, calls);
        Assert.Equal("registry r answered 502 (gave up after 4 attempts)", error.Message);
    }

    [Fact]
    public async Task RunAsync_NotTransient_FailsAtOnceUnchanged()
    {
        // Arrange
        var calls = 0;
        var failure = new NotFoundException("manifest unknown");

        // Act
        var error = await Assert.ThrowsAsync<NotFoundException>(() => Retry(4).RunAsync<int>(_ => { calls++; throw failure; }, "op", CancellationToken.None));

        // Assert
        Assert.Same(failure, error);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task RunAsync_RetryAfterLongerThanMaxDelay_WaitsMaxDelayOnly()
    {
        // Arrange
        var calls = 0;
        var started = DateTime.UtcNow;

        // Act
        await Retry(2).RunAsync(
            _ => ++calls == 1 ? throw RegistryRetry.MarkTransient(new UnavailableException("429"), TimeSpan.FromHours(1)) : Task.FromResult(0),
            "op",
            CancellationToken.None);

        // Assert
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task RunAsync_CancelledWhileWaiting_ThrowsCancellation()
    {
        // Arrange
        using var cancellation = new CancellationTokenSource();
        var retry = new RegistryRetry(new RegistryRetryOptions(5, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)), TimeProvider.System, NullLogger.Instance);

        // Act
        var run = retry.RunAsync<int>(_ => throw RegistryRetry.MarkTransient(new UnavailableException("reset")), "op", cancellation.Token);
        await cancellation.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}
