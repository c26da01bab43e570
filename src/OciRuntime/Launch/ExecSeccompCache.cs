using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// The daemon's <see cref="ExecSeccompProgram"/>s in memory, one per container, so an exec
/// neither compiles nor reads exec-seccomp.bpf again. An entry belongs to one init process: a
/// container re-created under the same id (by anyone) has another init, and its program is
/// loaded anew rather than taken from the old one. <see cref="Forget"/> drops a removed
/// container's; past <see cref="Capacity"/> the least recently used goes (it is read back from
/// its file when needed). Safe for concurrent execs: each program is loaded once, outside the lock.
/// </summary>
internal sealed class ExecSeccompCache(int capacity = ExecSeccompCache.DefaultCapacity)
{
    /// <summary>More than a node's containers (kubelet's default is 110 pods); a runtime/default program is a few KiB.</summary>
    public const int DefaultCapacity = 512;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _leastRecentFirst = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The program of the container whose init is <paramref name="initPid"/>; null without a profile.</summary>
    public ExecSeccompProgram? Get(StateDirectory directory, int initPid, SeccompSpec? profile)
    {
        if (profile is null)
        {
            return null;
        }
        var entry = EntryFor(directory, initPid, profile);
        try
        {
            return entry.Program.Value;
        }
        catch
        {
            // A failure is not kept: the next exec tries again.
            Remove(directory.Path, entry);
            throw;
        }
    }

    /// <summary>Drops the program of a container that is being removed.</summary>
    public void Forget(StateDirectory directory)
    {
        lock (_lock)
        {
            if (_entries.Remove(directory.Path, out var entry))
            {
                _leastRecentFirst.Remove(entry.Use);
            }
        }
    }

    private Entry EntryFor(StateDirectory directory, int initPid, SeccompSpec profile)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(directory.Path, out var entry) && entry.InitPid == initPid)
            {
                _leastRecentFirst.Remove(entry.Use);
                _leastRecentFirst.AddLast(entry.Use);
                return entry;
            }
            if (entry is not null)
            {
                _leastRecentFirst.Remove(entry.Use);
                _entries.Remove(directory.Path);
            }
            while (_entries.Count >= Capacity && _leastRecentFirst.First is { } oldest)
            {
                _entries.Remove(oldest.Value);
                _leastRecentFirst.RemoveFirst();
            }
            var added = new Entry(initPid, new LinkedListNode<string>(directory.Path),
                new Lazy<ExecSeccompProgram?>(() => ExecSeccompProgram.ForContainer(directory, profile), LazyThreadSafetyMode.ExecutionAndPublication));
            _entries.Add(directory.Path, added);
            _leastRecentFirst.AddLast(added.Use);
            return added;
        }
    }

    private void Remove(string path, Entry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(path, out var current) && ReferenceEquals(current, entry))
            {
                _entries.Remove(path);
                _leastRecentFirst.Remove(entry.Use);
            }
        }
    }

    private sealed record Entry(int InitPid, LinkedListNode<string> Use, Lazy<ExecSeccompProgram?> Program);
}
