using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry.Configuration;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Tries the hosts of one registry in their configured order, mirrors before the upstream, as
/// containerd's resolver does: a tag is resolved only by hosts with the "resolve" capability, a
/// digest (manifest or blob, verified by the caller) is fetched from hosts with "pull". A host
/// that fails for any reason hands over to the next; when all fail, the last host's error is
/// thrown with every other host's reason appended, and it is transient only if that one was.
/// </summary>
internal sealed class MirroredRegistrySession(IReadOnlyList<RegistrySession> hosts, ImageReference reference, ILogger logger) : IRegistrySession
{
    public IReadOnlyList<RegistrySession> Hosts => hosts;

    public Task<FetchedManifest> GetManifestAsync(string tagOrDigest, CancellationToken cancellationToken)
    {
        var capability = Digest.TryParse(tagOrDigest, out _) ? HostCapabilities.Pull : HostCapabilities.Resolve;
        return TryEachAsync(capability, (session, token) => session.GetManifestAsync(tagOrDigest, token), $"manifest {reference.Name}:{tagOrDigest}", cancellationToken);
    }

    public Task<Stream> OpenBlobAsync(Digest digest, CancellationToken cancellationToken) =>
        TryEachAsync(HostCapabilities.Pull, (session, token) => session.OpenBlobAsync(digest, token), $"blob {digest} of {reference.Name}", cancellationToken);

    private async Task<T> TryEachAsync<T>(
        HostCapabilities capability, Func<RegistrySession, CancellationToken, Task<T>> operation, string what, CancellationToken cancellationToken)
    {
        var candidates = hosts.Where(h => (h.Configuration.Capabilities & capability) != 0).ToList();
        if (candidates.Count == 0)
        {
            throw new FailedPreconditionException(
                $"no configured host of registry {reference.Domain} may {(capability == HostCapabilities.Resolve ? "resolve tags" : "pull")} ({what}); check its hosts.toml capabilities");
        }
        var failures = new List<string>();
        for (var i = 0; ; i++)
        {
            try
            {
                return await operation(candidates[i], cancellationToken).ConfigureAwait(false);
            }
            catch (CriOciException e) when (i < candidates.Count - 1 && !cancellationToken.IsCancellationRequested)
            {
                Log.RegistryHostFailed(logger, what, candidates[i].Host, e.Message);
                failures.Add($"{candidates[i].Host}: {e.Message}");
            }
            catch (CriOciException e) when (failures.Count > 0)
            {
                throw WithFailures(e, failures);
            }
        }
    }

    private static Exception WithFailures(CriOciException last, List<string> failures)
    {
        var message = $"{last.Message} (tried before: {string.Join("; ", failures)})";
        Exception combined = last switch
        {
            NotFoundException => new NotFoundException(message, last),
            UnavailableException => new UnavailableException(message, last),
            FailedPreconditionException => new FailedPreconditionException(message),
            InvalidArgumentException => new InvalidArgumentException(message),
            _ => last,
        };
        return RegistryRetry.IsTransient(last) && !ReferenceEquals(combined, last) ? RegistryRetry.MarkTransient(combined) : combined;
    }
}
