using System.Net;
using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Owns the HTTP connection pool shared by every pull. No overall timeout: a layer may take
/// long, and callers cancel through their token; connecting is bounded.
/// </summary>
internal sealed class RegistryClient : IRegistryClient, IDisposable
{
    private readonly HttpClient http;
    private readonly RegistryAuthenticator authenticator;
    private readonly RegistryEndpoint endpoint;

    public RegistryClient(RegistryEndpoint endpoint)
    {
        // Redirects are followed (blobs usually live on a CDN or object store); the handler
        // drops the Authorization header on redirect, so tokens stay with the registry.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("crioci/1.0");
        authenticator = new RegistryAuthenticator(http);
        this.endpoint = endpoint;
    }

    public IRegistrySession OpenSession(ImageReference reference, RegistryCredentials? credentials) =>
        new RegistrySession(http, authenticator, endpoint.BaseUri(reference.RegistryHost), reference, credentials);

    public void Dispose() => http.Dispose();
}
