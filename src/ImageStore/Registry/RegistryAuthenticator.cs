using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CriOci.Core;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Answers a registry's 401 challenge. Bearer goes to the token endpoint the challenge names
/// (Docker token authentication spec): anonymously, with basic credentials, or with an
/// identity token as OAuth2 refresh_token (POST, as docker and containerd do). Basic is
/// answered with the credentials themselves. Bearer wins when both are offered.
/// </summary>
internal sealed class RegistryAuthenticator(HttpClient http)
{
    private const string ClientId = "crioci";

    public async Task<AuthenticationHeaderValue> AuthorizeAsync(
        IReadOnlyList<AuthChallenge> challenges,
        string registryHost,
        bool registryIsPlainHttp,
        string repository,
        RegistryCredentials? credentials,
        CancellationToken cancellationToken)
    {
        var bearer = challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (bearer is not null)
        {
            if (!string.IsNullOrEmpty(credentials?.RegistryToken))
            {
                return new AuthenticationHeaderValue("Bearer", credentials.RegistryToken);
            }
            var token = await FetchTokenAsync(bearer, registryHost, registryIsPlainHttp, repository, credentials, cancellationToken).ConfigureAwait(false);
            return new AuthenticationHeaderValue("Bearer", token);
        }
        if (challenges.Any(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)))
        {
            var basic = BasicCredentials.From(credentials)
                ?? throw new UnavailableException($"registry {registryHost} asks for basic authentication and no credentials were given");
            return basic.ToHeader();
        }
        var schemes = string.Join(", ", challenges.Select(c => c.Scheme));
        throw new UnavailableException($"registry {registryHost} asks for unsupported authentication ({schemes})");
    }

    private async Task<string> FetchTokenAsync(
        AuthChallenge challenge,
        string registryHost,
        bool registryIsPlainHttp,
        string repository,
        RegistryCredentials? credentials,
        CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(challenge["realm"], UriKind.Absolute, out var realm)
            || (realm.Scheme != Uri.UriSchemeHttps && realm.Scheme != Uri.UriSchemeHttp))
        {
            throw new UnavailableException($"registry {registryHost} sent a bearer challenge without a usable realm URL");
        }
        if (realm.Scheme == Uri.UriSchemeHttp && !registryIsPlainHttp)
        {
            // An HTTPS registry must not send its tokens (or our credentials) over plain HTTP.
            throw new UnavailableException($"registry {registryHost} names a plain-HTTP token endpoint; refusing it for an HTTPS registry");
        }
        var service = challenge["service"];
        var scope = challenge["scope"] ?? $"repository:{repository}:pull";

        using var request = string.IsNullOrEmpty(credentials?.IdentityToken)
            ? CreateGetRequest(realm, service, scope, BasicCredentials.From(credentials))
            : CreateRefreshTokenRequest(realm, service, scope, credentials.IdentityToken);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new UnavailableException($"token endpoint {realm.GetLeftPart(UriPartial.Path)} of registry {registryHost}: {e.Message}", e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var (_, message) = RegistryErrors.ParseErrorBody(body);
                throw new UnavailableException(
                    $"token endpoint {realm.GetLeftPart(UriPartial.Path)} of registry {registryHost} answered "
                    + $"{(int)response.StatusCode} {response.StatusCode}: {message ?? "no details"}");
            }
            TokenResponse? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TokenResponse);
            }
            catch (JsonException e)
            {
                throw new UnavailableException($"token endpoint of registry {registryHost} sent malformed JSON", e);
            }
            return parsed?.Token is { Length: > 0 } token ? token
                : parsed?.AccessToken is { Length: > 0 } accessToken ? accessToken
                : throw new UnavailableException($"token endpoint of registry {registryHost} sent no token");
        }
    }

    private static HttpRequestMessage CreateGetRequest(Uri realm, string? service, string scope, BasicCredentials? basic)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
        if (!string.IsNullOrEmpty(service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }
        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        if (basic is not null)
        {
            query.Append("&account=").Append(Uri.EscapeDataString(basic.Username));
        }
        var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (basic is not null)
        {
            request.Headers.Authorization = basic.ToHeader();
        }
        return request;
    }

    private static HttpRequestMessage CreateRefreshTokenRequest(Uri realm, string? service, string scope, string identityToken)
    {
        var form = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "refresh_token"),
            new("refresh_token", identityToken),
            new("client_id", ClientId),
            new("scope", scope),
        };
        if (!string.IsNullOrEmpty(service))
        {
            form.Add(new("service", service));
        }
        return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
    }
}
