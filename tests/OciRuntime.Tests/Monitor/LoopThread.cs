using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Tests.Monitor;

/// <summary>
/// An <see cref="EventLoop"/> on a thread of its own, as crioci-monitor's one thread runs it.
/// Everything that touches the loop's objects is posted to that thread (<see cref="Invoke"/>),
/// woken through a pipe the loop watches like any other descriptor.
/// </summary>
internal sealed unsafe class LoopThread : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ConcurrentQueue<Action> _work = new();
    private readonly int _wakeRead;
    private readonly int _wakeWrite;
    private readonly Thread _thread;
    private volatile bool _stopped;

    public LoopThread()
    {
        (_wakeRead, _wakeWrite) = ContainerRuntime.CreatePipe();
        Loop.Add(_wakeRead, LibC.EPOLLIN, _ => RunPosted());
        _thread = new Thread(() =>
        {
            while (!_stopped)
            {
                Loop.RunOnce(-1);
            }
        }) { IsBackground = true, Name = "test-monitor-loop" };
        _thread.Start();
    }

    public EventLoop Loop { get; } = new();

    /// <summary>Runs <paramref name="action"/> on the loop's thread and waits for it (its exception is rethrown here).</summary>
    public void Invoke(Action action)
    {
        using var done = new ManualResetEventSlim();
        ExceptionDispatchInfo? failure = null;
        _work.Enqueue(() =>
        {
            try
            {
                action();
            }
            catch (Exception exception)
            {
                failure = ExceptionDispatchInfo.Capture(exception);
            }
            finally
            {
                done.Set();
            }
        });
        var one = (byte)1;
        LibC.write(_wakeWrite, &one, 1);
        if (!done.Wait(Patience))
        {
            throw new TimeoutException("the monitor's loop did not come round: something blocked its thread");
        }
        failure?.Throw();
    }

    public T Invoke<T>(Func<T> function)
    {
        T result = default!;
        Invoke(() => { result = function(); });
        return result;
    }

    private void RunPosted()
    {
        var buffer = stackalloc byte[64];
        LibC.read(_wakeRead, buffer, 64);
        while (_work.TryDequeue(out var action))
        {
            action();
        }
    }

    public void Dispose()
    {
        Invoke(() => _stopped = true);
        _thread.Join();
        LibC.close(_wakeRead);
        LibC.close(_wakeWrite);
        Loop.Dispose();
    }
}
