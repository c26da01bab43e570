using System.Collections.Concurrent;

namespace CriOci.PodSandbox;

/// <summary>
/// One async lock per pod or container ID: calls on the same object are serialised, calls on
/// different objects run in parallel (no global lock on the hot path).
/// </summary>
internal sealed class KeyedLocks
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public async Task<IDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        var semaphore = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(semaphore);
    }

    /// <summary>Drops the lock of an object that no longer exists.</summary>
    public void Forget(string key) => _locks.TryRemove(key, out _);

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
