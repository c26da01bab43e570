using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CriOci.ImageStore.Tests.Fixtures;

/// <summary>
/// A throw-away CA, a server certificate for 127.0.0.1 and a client certificate it issued, as
/// .NET objects and as PEM files in <see cref="Directory"/> (ca.pem, client.pem, client.key,
/// client-combined.pem with certificate and key in one file).
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory, X509Certificate2 authority, X509Certificate2 server, X509Certificate2 client)
    {
        Directory = directory;
        Authority = authority;
        Server = server;
        Client = client;
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string ClientCertificateFile => Path.Combine(Directory, "client.pem");

    public string ClientKeyFile => Path.Combine(Directory, "client.key");

    public string ClientCombinedFile => Path.Combine(Directory, "client-combined.pem");

    public static TestCertificates Create(string directory)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=crioci test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        var authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        var server = Issue(authority, caKey, "CN=127.0.0.1", serverAuth: true, now);
        var client = Issue(authority, caKey, "CN=crioci test client", serverAuth: false, now);

        System.IO.Directory.CreateDirectory(directory);
        var certificates = new TestCertificates(directory, authority, server, client);
        File.WriteAllText(certificates.CaFile, authority.ExportCertificatePem());
        File.WriteAllText(certificates.ClientCertificateFile, client.ExportCertificatePem());
        File.WriteAllText(certificates.ClientKeyFile, client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificates.ClientCombinedFile, client.ExportCertificatePem() + "\n" + client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return certificates;
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, RSA authorityKey, string subject, bool serverAuth, DateTimeOffset now)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(authority.SubjectName, X509SignatureGenerator.CreateForRSA(authorityKey, RSASignaturePadding.Pkcs1),
            now.AddDays(-1), now.AddDays(7), serial);
        // Kestrel on Linux needs the key in an exportable form attached to the certificate.
        var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        Authority.Dispose();
        Server.Dispose();
        Client.Dispose();
    }
}
