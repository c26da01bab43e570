namespace CriOci.Streaming.Spdy;

/// <summary>
/// How many bytes the peer lets us send on one stream (SPDY/3 section 2.6.8): DATA frames
/// spend it, the peer's WINDOW_UPDATE frames and SETTINGS_INITIAL_WINDOW_SIZE changes refill it.
/// </summary>
internal sealed class SpdySendWindow(int initialWindow)
{
    private readonly Lock _lock = new();
    private long _available = initialWindow;
    private bool _closed;
    private TaskCompletionSource? _refilled;

    /// <summary>
    /// Takes up to <paramref name="wanted"/> bytes of window, waiting while it is spent. When
    /// <paramref name="enforce"/> says the peer does not do flow control, it takes all at once.
    /// </summary>
    public async ValueTask<int> AcquireAsync(int wanted, Func<bool> enforce, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task refilled;
            lock (_lock)
            {
                if (_closed || !enforce())
                {
                    _available -= wanted;
                    return wanted;
                }
                if (_available > 0)
                {
                    var granted = (int)Math.Min(wanted, _available);
                    _available -= granted;
                    return granted;
                }
                _refilled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                refilled = _refilled.Task;
            }
            await refilled.WaitAsync(cancellationToken);
        }
    }

    public void Add(long delta)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _available += delta;
            waiter = _refilled;
            _refilled = null;
        }
        waiter?.TrySetResult();
    }

    /// <summary>Wakes every waiter for good: the stream or the connection is gone, the write will fail on its own.</summary>
    public void Close()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            _closed = true;
            waiter = _refilled;
            _refilled = null;
        }
        waiter?.TrySetResult();
    }
}
