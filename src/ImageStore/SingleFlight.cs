namespace CriOci.ImageStore;

/// <summary>
/// Runs one operation per key at a time and gives its result to every caller that asks
/// meanwhile (Go's singleflight, which containerd uses for pulls). A caller's cancellation
/// ends its own wait; the work is cancelled only when every waiter has given up, as CRI-O's
/// resourcestore keeps a sandbox for kubelet's retry.
/// </summary>
internal sealed class SingleFlight<TResult>
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Flight> flights = new(StringComparer.Ordinal);

    public async Task<TResult> RunAsync(string key, Func<CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Flight flight;
        lock (gate)
        {
            if (!flights.TryGetValue(key, out flight!) || flight.Cancellation.IsCancellationRequested)
            {
                flight = new Flight();
                flights[key] = flight;
                flight.Task = StartAsync(key, flight, work);
            }
            flight.Waiters++;
        }

        try
        {
            return await flight.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var abandon = false;
            lock (gate)
            {
                flight.Waiters--;
                abandon = flight.Waiters == 0 && !flight.Task.IsCompleted;
            }
            if (abandon)
            {
                await flight.Cancellation.CancelAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    private async Task<TResult> StartAsync(string key, Flight flight, Func<CancellationToken, Task<TResult>> work)
    {
        // Leave the caller's lock and synchronization context before the work starts.
        await Task.Yield();
        try
        {
            return await work(flight.Cancellation.Token).ConfigureAwait(false);
        }
        finally
        {
            lock (gate)
            {
                if (flights.TryGetValue(key, out var current) && ReferenceEquals(current, flight))
                {
                    flights.Remove(key);
                }
            }
            // The source is not disposed: a late waiter may still cancel it, and without
            // timers or links it holds nothing to release.
        }
    }

    private sealed class Flight
    {
        public CancellationTokenSource Cancellation { get; } = new();
        public Task<TResult> Task { get; set; } = null!;
        public int Waiters { get; set; }
    }
}
