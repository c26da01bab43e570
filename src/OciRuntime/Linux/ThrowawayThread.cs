using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// Runs work on a new OS thread, which ends with it, and waits for it: for calls that change
/// the calling thread for good (setns, unshare, joining a cgroup) and must not touch the
/// process's other threads.
/// </summary>
/// <remarks>
/// A plain pthread rather than <see cref="Thread"/>: Thread.Start spins (sched_yield) until the
/// new thread has run, which on a busy two-core node was an eighth of a create's CPU. The
/// runtime attaches the thread when it first enters managed code; pthread_join sleeps in the
/// kernel until it has ended.
/// </remarks>
public static unsafe class ThrowawayThread
{
    private sealed class Work(Action action)
    {
        public Action Action { get; } = action;
        public Exception? Failure { get; set; }
    }

    /// <summary>Runs <paramref name="action"/> on the new thread; an exception it throws is rethrown here.</summary>
    public static void Run(Action action)
    {
        var work = new Work(action);
        var handle = GCHandle.Alloc(work);
        try
        {
            var error = LibC.pthread_create(out var thread, null, &Start, GCHandle.ToIntPtr(handle));
            if (error != 0)
            {
                throw new SyscallException(error, "pthread_create", null);
            }
            error = LibC.pthread_join(thread, null);
            if (error != 0)
            {
                throw new SyscallException(error, "pthread_join", null);
            }
        }
        finally
        {
            handle.Free();
        }
        if (work.Failure is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    [UnmanagedCallersOnly]
    private static nint Start(nint argument)
    {
        var work = (Work)GCHandle.FromIntPtr(argument).Target!;
        try
        {
            work.Action();
        }
        catch (Exception exception)
        {
            // Nothing may unwind out of a thread's start routine.
            work.Failure = exception;
        }
        return 0;
    }
}
