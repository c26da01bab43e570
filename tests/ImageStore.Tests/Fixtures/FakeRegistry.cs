using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Tests.Fixtures;

/// <summary>
/// An in-process OCI distribution registry on 127.0.0.1 (Kestrel, random port): manifests by
/// tag or digest, blobs (optionally through a redirect), a Bearer challenge with a token
/// endpoint, and a count of every request path so tests can check what was fetched.
/// </summary>
internal sealed class FakeRegistry : IAsyncDisposable
{
    public const string Token = "fake-registry-token";

    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, (string MediaType, byte[] Body)> manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> blobs = new();
    private readonly ConcurrentDictionary<string, int> requestCounts = new();

    private FakeRegistry(WebApplication app)
    {
        this.app = app;
    }

    public string Host { get; private set; } = "";

    /// <summary>Answer /v2/ requests without "Bearer <see cref="Token"/>" with a Bearer challenge.</summary>
    public bool RequireBearerToken { get; set; }

    /// <summary>When set, the token endpoint wants these basic credentials.</summary>
    public (string User, string Password)? TokenCredentials { get; set; }

    /// <summary>Serve blobs through a 307 redirect to /storage/.</summary>
    public bool RedirectBlobs { get; set; }

    /// <summary>Delay before each blob body, so concurrent pulls overlap.</summary>
    public TimeSpan BlobDelay { get; set; }

    /// <summary>Whether a redirected blob request arrived with an Authorization header (it must not).</summary>
    public bool StorageSawAuthorization { get; private set; }

    /// <summary>When set, /v2/ requests must carry these basic credentials (a Basic challenge otherwise).</summary>
    public (string User, string Password)? BasicAuth { get; set; }

    /// <summary>
    /// Runs first for every request; returning true means it answered (failures, hangs,
    /// stalls). Arguments: the context and the path's request count so far, this one included.
    /// </summary>
    public Func<HttpContext, int, Task<bool>>? Interceptor { get; set; }

    /// <summary>The Authorization header of every request, in arrival order ("" when absent).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>Every request's path and query, in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static Task<FakeRegistry> StartAsync() => StartAsync(null, null);

    /// <summary>
    /// Starts on HTTPS with <paramref name="serverCertificate"/> when given; with
    /// <paramref name="clientAuthority"/> too, only clients presenting a certificate it issued get in.
    /// </summary>
    public static async Task<FakeRegistry> StartAsync(
        System.Security.Cryptography.X509Certificates.X509Certificate2? serverCertificate,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientAuthority)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (serverCertificate is null)
            {
                return;
            }
            listen.UseHttps(https =>
            {
                https.ServerCertificate = serverCertificate;
                if (clientAuthority is not null)
                {
                    https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (certificate, _, _) => VerifyIssuedBy(certificate, clientAuthority);
                }
            });
        }));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var registry = new FakeRegistry(app);
        app.Run(registry.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        registry.Host = new Uri(address).Authority;
        return registry;
    }

    public int RequestCount(string path) => requestCounts.GetValueOrDefault(path);

    public IReadOnlyDictionary<string, int> RequestCounts => requestCounts;

    public void AddBlob(byte[] content) => blobs[LayerBuilder.Sha256(content)] = content;

    /// <summary>Serves <paramref name="content"/> under a digest it does not have.</summary>
    public void AddTamperedBlob(string digest, byte[] content) => blobs[digest] = content;

    public void AddManifest(string repository, string reference, string mediaType, byte[] body) =>
        manifests[$"{repository}/{reference}"] = (mediaType, body);

    /// <summary>Pushes the image's blobs and manifest, and tags the manifest when a tag is given.</summary>
    public void Push(string repository, TestImage image, string? tag = null)
    {
        foreach (var layer in image.Layers)
        {
            AddBlob(layer.Blob);
        }
        AddBlob(image.Config);
        AddManifest(repository, image.ManifestDigest, image.ManifestMediaType, image.Manifest);
        if (tag is not null)
        {
            AddManifest(repository, tag, image.ManifestMediaType, image.Manifest);
        }
    }

    /// <summary>Pushes every image and an index over them under <paramref name="tag"/>; returns the index digest.</summary>
    public string PushIndex(string repository, string tag, params TestImage[] images)
    {
        foreach (var image in images)
        {
            Push(repository, image);
        }
        var index = TestImage.Index(images);
        AddManifest(repository, tag, TestImage.OciIndex, index);
        AddManifest(repository, LayerBuilder.Sha256(index), TestImage.OciIndex, index);
        return LayerBuilder.Sha256(index);
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var count = requestCounts.AddOrUpdate(path, 1, (_, count) => count + 1);
        Requests.Enqueue(path + context.Request.QueryString);
        Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        var response = context.Response;
        if (Interceptor is { } interceptor && await interceptor(context, count))
        {
            return;
        }

        if (path == "/token")
        {
            await HandleTokenAsync(context);
            return;
        }
        if (path.StartsWith("/storage/", StringComparison.Ordinal))
        {
            StorageSawAuthorization |= context.Request.Headers.Authorization.Count > 0;
            await WriteBlobAsync(context, path["/storage/".Length..]);
            return;
        }
        if (!path.StartsWith("/v2/", StringComparison.Ordinal))
        {
            response.StatusCode = 404;
            return;
        }
        if (RequireBearerToken && context.Request.Headers.Authorization != $"Bearer {Token}")
        {
            response.StatusCode = 401;
            var repository = RepositoryOf(path) ?? "";
            response.Headers.WWWAuthenticate =
                $"Bearer realm=\"http://{Host}/token\",service=\"fake-registry\",scope=\"repository:{repository}:pull\"";
            await WriteErrorAsync(response, 401, "UNAUTHORIZED", "authentication required");
            return;
        }

        if (BasicAuth is { } basic
            && context.Request.Headers.Authorization != "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basic.User}:{basic.Password}")))
        {
            response.Headers.WWWAuthenticate = "Basic realm=\"fake-registry\"";
            await WriteErrorAsync(response, 401, "UNAUTHORIZED", "authentication required");
            return;
        }

        var manifestsAt = path.LastIndexOf("/manifests/", StringComparison.Ordinal);
        var blobsAt = path.LastIndexOf("/blobs/", StringComparison.Ordinal);
        if (manifestsAt > 0)
        {
            var key = $"{path[4..manifestsAt]}/{path[(manifestsAt + "/manifests/".Length)..]}";
            if (!manifests.TryGetValue(key, out var manifest))
            {
                await WriteErrorAsync(response, 404, "MANIFEST_UNKNOWN", $"manifest unknown: {key}");
                return;
            }
            response.ContentType = manifest.MediaType;
            response.Headers["Docker-Content-Digest"] = LayerBuilder.Sha256(manifest.Body);
            await response.Body.WriteAsync(manifest.Body);
            return;
        }
        if (blobsAt > 0)
        {
            var digest = path[(blobsAt + "/blobs/".Length)..];
            if (RedirectBlobs)
            {
                response.StatusCode = 307;
                response.Headers.Location = $"http://{Host}/storage/{digest}";
                return;
            }
            await WriteBlobAsync(context, digest);
            return;
        }
        response.ContentType = "application/json";
        await response.WriteAsync("{}");
    }

    private async Task HandleTokenAsync(HttpContext context)
    {
        if (TokenCredentials is { } wanted)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{wanted.User}:{wanted.Password}"));
            if (context.Request.Headers.Authorization != expected)
            {
                await WriteErrorAsync(context.Response, 401, "UNAUTHORIZED", "bad credentials");
                return;
            }
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"token\":\"{Token}\",\"expires_in\":300}}");
    }

    private async Task WriteBlobAsync(HttpContext context, string digest)
    {
        var response = context.Response;
        if (!blobs.TryGetValue(digest, out var blob))
        {
            await WriteErrorAsync(response, 404, "BLOB_UNKNOWN", $"blob unknown: {digest}");
            return;
        }
        if (BlobDelay > TimeSpan.Zero)
        {
            await Task.Delay(BlobDelay, context.RequestAborted);
        }
        response.ContentType = "application/octet-stream";
        response.ContentLength = blob.Length;
        await response.Body.WriteAsync(blob);
    }

    private static Task WriteErrorAsync(HttpResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        return response.WriteAsync($"{{\"errors\":[{{\"code\":\"{code}\",\"message\":\"{message}\"}}]}}");
    }

    private static bool VerifyIssuedBy(
        System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        System.Security.Cryptography.X509Certificates.X509Certificate2 authority)
    {
        using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
        chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string? RepositoryOf(string path)
    {
        var at = Math.Max(path.LastIndexOf("/manifests/", StringComparison.Ordinal), path.LastIndexOf("/blobs/", StringComparison.Ordinal));
        return at > 4 ? path[4..at] : null;
    }
}
