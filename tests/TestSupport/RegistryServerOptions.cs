using System.Globalization;

namespace CriOci.TestSupport;

/// <summary>
/// How a <see cref="RegistryServer"/> authenticates clients: not at all, with an htpasswd file
/// (distribution's "htpasswd" auth, bcrypt entries only, see <see cref="Htpasswd"/>), or with
/// bearer tokens from a token server (distribution's "token" auth: it trusts JWTs whose
/// x5c chain ends in a certificate of <see cref="TokenAuthentication.RootCertificateBundle"/>).
/// </summary>
public sealed record RegistryServerOptions
{
    public static RegistryServerOptions Anonymous { get; } = new();

    /// <summary>An htpasswd file with bcrypt entries; the realm the Basic challenge names is "crioci-test".</summary>
    public string? HtpasswdFile { get; init; }

    public TokenAuthentication? Token { get; init; }

    public bool RequiresAuthentication => HtpasswdFile is not null || Token is not null;

    internal string AuthConfigYaml()
    {
        if (HtpasswdFile is not null && Token is not null)
        {
            throw new ArgumentException("a registry has one authentication method: htpasswd or token");
        }
        if (HtpasswdFile is not null)
        {
            return string.Create(CultureInfo.InvariantCulture, $"""
                auth:
                  htpasswd:
                    realm: crioci-test
                    path: "{HtpasswdFile}"
                """);
        }
        if (Token is { } token)
        {
            return string.Create(CultureInfo.InvariantCulture, $"""
                auth:
                  token:
                    realm: "{token.Realm}"
                    service: "{token.Service}"
                    issuer: "{token.Issuer}"
                    rootcertbundle: "{token.RootCertificateBundle}"
                """);
        }
        return "";
    }
}

/// <param name="Realm">The token endpoint URL sent to clients in the Bearer challenge.</param>
/// <param name="Service">The "service" the registry names and the "aud" its tokens must carry.</param>
/// <param name="Issuer">The "iss" its tokens must carry.</param>
/// <param name="RootCertificateBundle">PEM file of the certificates that may sign tokens.</param>
public sealed record TokenAuthentication(string Realm, string Service, string Issuer, string RootCertificateBundle);
