using System.Net;
using System.Net.Http.Headers;
using CriOci.Core;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Retries a registry operation on transient failures (connection refused or reset, a
/// request or read that timed out, 408, 429, 500, 502, 503, 504) with exponential backoff and
/// jitter, up to a bound; Retry-After is honoured up to the largest delay. Every other error
/// (401, 404, a digest mismatch, a full disk) fails at once. Registry code marks an error
/// transient with <see cref="MarkTransient"/>; nothing else is guessed.
/// </summary>
internal sealed class RegistryRetry(RegistryRetryOptions options, TimeProvider time, ILogger logger)
{
    private const string TransientKey = "CriOci.RegistryTransient";
    private const string RetryAfterKey = "CriOci.RetryAfter";

    public static T MarkTransient<T>(T exception, TimeSpan? retryAfter = null) where T : Exception
    {
        exception.Data[TransientKey] = true;
        if (retryAfter is { } delay)
        {
            exception.Data[RetryAfterKey] = delay;
        }
        return exception;
    }

    public static bool IsTransient(Exception exception) => exception.Data[TransientKey] is true;

    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) =>
        header?.Delta ?? (header?.Date is { } date ? date - now : null);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= options.MaxAttempts)
                {
                    throw options.MaxAttempts == 1 ? e : new UnavailableException($"{e.Message} (gave up after {attempt} attempts)", e);
                }
                var delay = DelayBefore(attempt + 1, e);
                Log.RegistryRetry(logger, what, attempt, (long)delay.TotalMilliseconds, e.Message);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private TimeSpan DelayBefore(int attempt, Exception e)
    {
        if (e.Data[RetryAfterKey] is TimeSpan retryAfter && retryAfter > TimeSpan.Zero)
        {
            return retryAfter < options.MaxDelay ? retryAfter : options.MaxDelay;
        }
        // initial, 2x, 4x, ... capped, then +-20 % so many nodes retrying do not arrive together.
        var exponential = options.InitialDelay.TotalMilliseconds * Math.Pow(2, attempt - 2);
        var capped = Math.Min(exponential, options.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }
}

/// <summary>How registry operations are retried and timed out.</summary>
/// <param name="MaxAttempts">Attempts of one manifest or blob fetch, the first included.</param>
/// <param name="InitialDelay">The wait before the second attempt; it doubles for each further one.</param>
/// <param name="MaxDelay">The longest wait between attempts.</param>
internal sealed record RegistryRetryOptions(int MaxAttempts, TimeSpan InitialDelay, TimeSpan MaxDelay);
