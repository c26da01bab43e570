namespace CriOci.ImageStore.Metadata;

/// <summary>
/// Protects blobs and layers a pull is using but has not yet recorded from removal, like
/// containerd leases: garbage collection skips anything leased. Collection decides and
/// detaches under <see cref="Gate"/>, and a pull takes its lease under the same gate before
/// it looks whether a blob or layer exists, so neither can miss the other.
/// </summary>
internal sealed class LeaseSet
{
    private readonly Dictionary<string, int> holders = new(StringComparer.Ordinal);

    public Lock Gate { get; } = new();

    public Lease Acquire() => new(this);

    /// <summary>Call with <see cref="Gate"/> held.</summary>
    public bool IsLeased(string key) => holders.ContainsKey(key);

    internal sealed class Lease(LeaseSet owner) : IDisposable
    {
        private readonly HashSet<string> keys = new(StringComparer.Ordinal);

        public void Add(string key)
        {
            lock (owner.Gate)
            {
                if (keys.Add(key))
                {
                    owner.holders[key] = owner.holders.GetValueOrDefault(key) + 1;
                }
            }
        }

        public void Dispose()
        {
            lock (owner.Gate)
            {
                foreach (var key in keys)
                {
                    if (--owner.holders[key] == 0)
                    {
                        owner.holders.Remove(key);
                    }
                }
                keys.Clear();
            }
        }
    }
}
