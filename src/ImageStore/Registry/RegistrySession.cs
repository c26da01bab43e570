using System.Net;
using System.Net.Http.Headers;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry.Configuration;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Requests of one pull against one repository on one host, the upstream registry or a mirror
/// (distribution spec "Pulling manifests" and "Pulling blobs"). Each call is one attempt:
/// <see cref="RegistryRetry"/> repeats it, <see cref="MirroredRegistrySession"/> moves on to
/// the next host. The Authorization earned from a challenge is kept for later requests; a 401
/// on a kept token (expired mid-pull) earns a fresh one once. A request whose response headers
/// do not arrive within the request timeout, and a body that sends nothing for the read
/// timeout, fail as transient errors instead of hanging the pull.
/// </summary>
internal sealed class RegistrySession(
    RegistryHttpClient client,
    RegistryHost host,
    ImageReference reference,
    RegistryCredentials? credentials,
    RegistryTimeouts timeouts) : IRegistrySession
{
    /// <summary>containerd's limit too: a manifest is metadata, never this large.</summary>
    internal const int MaxManifestBytes = 4 * 1024 * 1024;

    private AuthenticationHeaderValue? authorization = string.IsNullOrEmpty(credentials?.RegistryToken)
        ? null
        : new AuthenticationHeaderValue("Bearer", credentials.RegistryToken);

    public string Host => host.Host;

    public RegistryHost Configuration => host;

    public async Task<FetchedManifest> GetManifestAsync(string tagOrDigest, CancellationToken cancellationToken)
    {
        var what = Digest.TryParse(tagOrDigest, out _)
            ? $"manifest {reference.Name}@{tagOrDigest}"
            : $"manifest {reference.Name}:{tagOrDigest}";
        var uri = RequestUri($"manifests/{tagOrDigest}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeouts.Request);
        try
        {
            return await GetManifestAsync(uri, tagOrDigest, what, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw RegistryRetry.MarkTransient(new UnavailableException(
                $"registry {host.Host}: {what}: no complete answer within {timeouts.Request.TotalSeconds:0.###} s", e));
        }
    }

    private async Task<FetchedManifest> GetManifestAsync(Uri uri, string tagOrDigest, string what, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, uri);
                foreach (var mediaType in MediaTypes.AcceptedManifests)
                {
                    request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
                }
                return request;
            },
            what,
            cancellationToken).ConfigureAwait(false);

        var content = await ReadManifestAsync(response, what, cancellationToken).ConfigureAwait(false);
        var mediaType = ManifestKind.Detect(response.Content.Headers.ContentType?.MediaType, content, what);
        var digest = VerifyDigest(content, tagOrDigest, response, what);
        return new FetchedManifest(mediaType, content, digest);
    }

    public async Task<Stream> OpenBlobAsync(Digest digest, CancellationToken cancellationToken)
    {
        var what = $"blob {digest} of {reference.Name}";
        var uri = RequestUri($"blobs/{digest}");
        HttpResponseMessage response;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(timeouts.Request);
            try
            {
                response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), what, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw RegistryRetry.MarkTransient(new UnavailableException(
                    $"registry {host.Host}: {what}: no answer within {timeouts.Request.TotalSeconds:0.###} s", e));
            }
        }
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response, body, $"registry {host.Host}: {what}", timeouts.Read);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The manifest digest is computed from the bytes: when asked by digest it must match,
    /// and when asked by tag it must match the Docker-Content-Digest the registry claims.
    /// </summary>
    private static Digest VerifyDigest(byte[] content, string tagOrDigest, HttpResponseMessage response, string what)
    {
        if (Digest.TryParse(tagOrDigest, out var requested))
        {
            var actual = requested.Compute(content);
            return actual == requested ? actual
                : throw new FailedPreconditionException($"{what}: registry sent content with digest {actual}");
        }
        var computed = Digest.ComputeSha256(content);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var claimedValues)
            && Digest.TryParse(claimedValues.FirstOrDefault(), out var claimed)
            && claimed.Compute(content) != claimed)
        {
            throw new FailedPreconditionException(
                $"{what}: registry claims digest {claimed} but the content's digest is {claimed.Compute(content)}");
        }
        return computed;
    }

    private static async Task<byte[]> ReadManifestAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxManifestBytes)
        {
            throw new UnavailableException($"{what} is larger than {MaxManifestBytes} bytes");
        }
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxManifestBytes)
                {
                    throw new UnavailableException($"{what} is larger than {MaxManifestBytes} bytes");
                }
            }
            return buffer.ToArray();
        }
    }

    /// <summary>baseUri + repository path + rest; a mirror also gets ?ns=&lt;upstream&gt;, as containerd sends it.</summary>
    private Uri RequestUri(string rest)
    {
        var uri = new Uri(host.BaseUri, $"{reference.Path}/{rest}");
        return host.Namespace is null ? uri : new UriBuilder(uri) { Query = $"ns={Uri.EscapeDataString(host.Namespace)}" }.Uri;
    }

    private async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> createRequest, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = createRequest();
            request.Headers.Authorization = authorization;
            foreach (var (name, values) in host.Headers)
            {
                request.Headers.TryAddWithoutValidation(name, values);
            }
            HttpResponseMessage response;
            try
            {
                response = await client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                var error = new UnavailableException($"registry {host.Host}: {what}: {e.Message}", e);
                // A name that does not resolve or a certificate that is not trusted will not get better in a second.
                return e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
                    ? throw error
                    : throw RegistryRetry.MarkTransient(error);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && response.Headers.WwwAuthenticate.Count > 0)
            {
                var challenges = AuthChallenge.FromHeaders(response.Headers.WwwAuthenticate);
                response.Dispose();
                authorization = await client.Authenticator
                    .AuthorizeAsync(challenges, host.Host, host.IsPlainHttp, reference.Path, credentials, cancellationToken)
                    .ConfigureAwait(false);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                var transient = RegistryRetry.IsTransientStatus(response.StatusCode);
                var retryAfter = RegistryRetry.RetryAfter(response.Headers.RetryAfter, DateTimeOffset.UtcNow);
                var error = await RegistryErrors.FromResponseAsync(response, host.Host, what, cancellationToken).ConfigureAwait(false);
                throw transient ? RegistryRetry.MarkTransient(error, retryAfter) : error;
            }
            return response;
        }
    }
}
