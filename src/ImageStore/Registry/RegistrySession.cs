using System.Net;
using System.Net.Http.Headers;
using CriOci.Core;
using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Requests of one pull against one repository (distribution spec "Pulling manifests" and
/// "Pulling blobs"). The Authorization earned from a challenge is kept for later requests;
/// a 401 on a kept token (expired mid-pull) earns a fresh one once.
/// </summary>
internal sealed class RegistrySession(
    HttpClient http,
    RegistryAuthenticator authenticator,
    Uri baseUri,
    ImageReference reference,
    RegistryCredentials? credentials) : IRegistrySession
{
    /// <summary>containerd's limit too: a manifest is metadata, never this large.</summary>
    private const int MaxManifestBytes = 4 * 1024 * 1024;

    private AuthenticationHeaderValue? authorization = string.IsNullOrEmpty(credentials?.RegistryToken)
        ? null
        : new AuthenticationHeaderValue("Bearer", credentials.RegistryToken);

    public async Task<FetchedManifest> GetManifestAsync(string tagOrDigest, CancellationToken cancellationToken)
    {
        var what = Digest.TryParse(tagOrDigest, out _)
            ? $"manifest {reference.Name}@{tagOrDigest}"
            : $"manifest {reference.Name}:{tagOrDigest}";
        var uri = new Uri(baseUri, $"{reference.Path}/manifests/{tagOrDigest}");
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
        var uri = new Uri(baseUri, $"{reference.Path}/blobs/{digest}");
        var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), what, cancellationToken)
            .ConfigureAwait(false);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new ResponseStream(response, body);
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

    private async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> createRequest, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = createRequest();
            request.Headers.Authorization = authorization;
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new UnavailableException($"registry {reference.RegistryHost}: {what}: {e.Message}", e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new UnavailableException($"registry {reference.RegistryHost}: {what}: timed out", e);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && response.Headers.WwwAuthenticate.Count > 0)
            {
                var challenges = AuthChallenge.FromHeaders(response.Headers.WwwAuthenticate);
                response.Dispose();
                authorization = await authenticator
                    .AuthorizeAsync(challenges, reference.RegistryHost, baseUri.Scheme == Uri.UriSchemeHttp, reference.Path, credentials, cancellationToken)
                    .ConfigureAwait(false);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw await RegistryErrors.FromResponseAsync(response, reference.RegistryHost, what, cancellationToken)
                    .ConfigureAwait(false);
            }
            return response;
        }
    }
}
