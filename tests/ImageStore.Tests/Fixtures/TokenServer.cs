using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Tests.Fixtures;

/// <summary>
/// A Docker token server (distribution docs/spec/auth/token.md) for a real docker-registry with
/// "token" auth: GET /token?service=&amp;scope=repository:NAME:ACTIONS with Basic credentials
/// answers {"token": JWT}. The JWT is RS256, signed by a self-signed certificate written to
/// <see cref="RootCertificateBundle"/>, carried in the header's x5c so the registry finds the
/// key by chain. Only the one user gets tokens; anonymous and wrong passwords get 401.
/// </summary>
internal sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "crioci-test-registry";
    public const string Issuer = "crioci-test-token-server";

    private readonly WebApplication app;
    private readonly RSA key;
    private readonly X509Certificate2 certificate;
    private readonly (string User, string Password) account;

    private TokenServer(WebApplication app, RSA key, X509Certificate2 certificate, (string, string) account, string bundle)
    {
        this.app = app;
        this.key = key;
        this.certificate = certificate;
        this.account = account;
        RootCertificateBundle = bundle;
    }

    public string Realm { get; private set; } = "";

    public string RootCertificateBundle { get; }

    /// <summary>The scope of every token request, and whether it was granted.</summary>
    public ConcurrentQueue<(string Scope, bool Granted)> Requests { get; } = new();

    public static async Task<TokenServer> StartAsync(string directory, string user, string password)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=crioci test token signer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
        var bundle = Path.Combine(directory, "token-root.pem");
        await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new TokenServer(app, key, certificate, (user, password), bundle);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Realm = $"{address.TrimEnd('/')}/token";
        return server;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var scopes = context.Request.Query["scope"].Where(s => !string.IsNullOrEmpty(s)).Select(s => s!).ToList();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{account.User}:{account.Password}"));
        var granted = context.Request.Path == "/token" && context.Request.Headers.Authorization == expected;
        Requests.Enqueue((string.Join(' ', scopes), granted));
        if (!granted)
        {
            context.Response.StatusCode = 401;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}""");
            return;
        }
        var token = Sign(scopes);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["token"] = token, ["access_token"] = token, ["expires_in"] = 300 }.ToJsonString());
    }

    /// <summary>Grants every action asked for in each "repository:NAME:ACTION,ACTION" scope.</summary>
    private string Sign(IReadOnlyList<string> scopes)
    {
        var access = new JsonArray();
        foreach (var scope in scopes.SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            var parts = scope.Split(':');
            if (parts.Length >= 3)
            {
                var actions = new JsonArray([.. parts[^1].Split(',').Select(a => (JsonNode?)JsonValue.Create(a))]);
                access.Add(new JsonObject { ["type"] = parts[0], ["name"] = string.Join(':', parts[1..^1]), ["actions"] = actions });
            }
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5c"] = new JsonArray(Convert.ToBase64String(certificate.RawData)),
        };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = account.User,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 10,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        certificate.Dispose();
        key.Dispose();
    }
}
