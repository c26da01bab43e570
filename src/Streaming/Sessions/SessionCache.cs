using System.Buffers.Text;
using System.Security.Cryptography;
using CriOci.Core;
using Google.Protobuf;

namespace CriOci.Streaming.Sessions;

/// <summary>
/// Registered streaming requests by token: single use, expiring, bounded. Mirrors kubelet's
/// request cache (pkg/kubelet/cri/streaming/request_cache.go): expired entries are dropped
/// oldest first whenever a new one is added, and a full cache refuses new sessions rather than
/// evicting one a client may be about to use.
/// </summary>
internal sealed class SessionCache(TimeProvider timeProvider, TimeSpan lifetime, int capacity)
{
    // 16 random bytes: kubelet uses 8; more costs nothing and makes guessing hopeless.
    private const int TokenBytes = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byToken = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _byExpiry = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byToken.Count;
            }
        }
    }

    public string Add(IMessage request)
    {
        var token = NewToken();
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            DropExpired(now);
            if (_byToken.Count >= capacity)
            {
                throw new UnavailableException($"too many streaming sessions in flight (at most {capacity}); retry later");
            }
            // The lifetime is the same for every entry, so appending keeps the list ordered by expiry.
            _byToken[token] = _byExpiry.AddLast(new Entry(token, request, now + lifetime));
        }
        return token;
    }

    /// <summary>The request registered under <paramref name="token"/>, removed; null when unknown, used or expired.</summary>
    public IMessage? Consume(string token)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (!_byToken.Remove(token, out var node))
            {
                return null;
            }
            _byExpiry.Remove(node);
            return node.Value.ExpiresAt > now ? node.Value.Request : null;
        }
    }

    private void DropExpired(DateTimeOffset now)
    {
        while (_byExpiry.First is { } oldest && oldest.Value.ExpiresAt <= now)
        {
            _byExpiry.RemoveFirst();
            _byToken.Remove(oldest.Value.Token);
        }
    }

    private static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));

    private sealed record Entry(string Token, IMessage Request, DateTimeOffset ExpiresAt);
}
