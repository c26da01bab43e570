using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CriOci.Core;
using CriOci.ImageStore.Registry.Configuration;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// One connection pool per TLS configuration: hosts without CA or client certificates share
/// one, each distinct hosts.toml TLS setting gets its own handler. Certificates are read when
/// a host is first used, so a broken file fails only the pulls that need it.
/// </summary>
internal sealed class RegistryHttpClients : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<RegistryHttpClient>> clients = new(StringComparer.Ordinal);
    private readonly TimeSpan connectTimeout;

    public RegistryHttpClients(TimeSpan connectTimeout)
    {
        this.connectTimeout = connectTimeout;
    }

    /// <summary>
    /// The client for <paramref name="tls"/>. The key holds the certificate files' change times,
    /// so a rotated certificate gets a new pool; a file that failed to load is read again next time.
    /// </summary>
    public RegistryHttpClient For(RegistryTlsSettings tls)
    {
        var key = tls.IsDefault ? "" : tls.Key + "|" + string.Join('|', tls.CaFiles
            .Concat(tls.ClientCertificates.SelectMany(c => c.KeyFile is null ? [c.CertificateFile] : new[] { c.CertificateFile, c.KeyFile }))
            .Select(file => File.GetLastWriteTimeUtc(file).Ticks));
        var entry = clients.GetOrAdd(key, _ => new Lazy<RegistryHttpClient>(() => Create(tls)));
        try
        {
            return entry.Value;
        }
        catch (UnavailableException)
        {
            clients.TryRemove(new KeyValuePair<string, Lazy<RegistryHttpClient>>(key, entry));
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var client in clients.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Http.Dispose();
        }
    }

    private RegistryHttpClient Create(RegistryTlsSettings tls)
    {
        // Redirects are followed (blobs usually live on a CDN or object store); the handler
        // drops the Authorization header on redirect, so tokens stay with the registry.
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (!tls.IsDefault)
        {
            var clientCertificates = new X509CertificateCollection();
            foreach (var files in tls.ClientCertificates)
            {
                clientCertificates.Add(LoadClientCertificate(files));
            }
            var authorities = new X509Certificate2Collection();
            foreach (var file in tls.CaFiles)
            {
                try
                {
                    authorities.ImportFromPemFile(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
                {
                    throw new UnavailableException($"CA certificate file {file}: {e.Message}", e);
                }
            }
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificates,
                EnabledSslProtocols = SslProtocols.None,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                    tls.SkipVerify || IsTrusted(certificate, chain, errors, authorities),
            };
        }
        var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("crioci/1.0");
        return new RegistryHttpClient(http, new RegistryAuthenticator(http));
    }

    /// <summary>Trusted by the system, or chaining to one of the host's CAs (containerd adds them to the system pool the same way).</summary>
    private static bool IsTrusted(X509Certificate? certificate, X509Chain? systemChain, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null || authorities.Count == 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (systemChain is not null)
        {
            foreach (var element in systemChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static X509Certificate2 LoadClientCertificate(ClientCertificateFiles files)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(files.CertificateFile, files.KeyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new UnavailableException(
                $"client certificate {files.CertificateFile}{(files.KeyFile is null ? "" : $" with key {files.KeyFile}")}: {e.Message}", e);
        }
    }
}

/// <summary>An HTTP client and the authenticator that asks token endpoints through it.</summary>
internal sealed record RegistryHttpClient(HttpClient Http, RegistryAuthenticator Authenticator);
