using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry.Configuration;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Opens pull sessions: finds the registry's hosts (hosts.toml mirrors, then the upstream),
/// the credentials for each and the connection pool for its TLS settings. No overall timeout:
/// a layer may take long, and callers cancel through their token; connecting, waiting for a
/// response and silences inside a body are bounded (<see cref="RegistryTimeouts"/>).
/// </summary>
internal sealed class RegistryClient : IRegistryClient, IDisposable
{
    private readonly RegistryHttpClients clients;
    private readonly HostsDirectory hostsDirectory;
    private readonly DockerCredentialsFile credentialsFile;
    private readonly RegistryTimeouts timeouts;
    private readonly ILogger logger;

    public RegistryClient(RegistryEndpoint endpoint, string? hostsConfigDirectory, string? credentialsFile, RegistryTimeouts timeouts, ILogger logger)
    {
        clients = new RegistryHttpClients(timeouts.Request < TimeSpan.FromSeconds(30) ? timeouts.Request : TimeSpan.FromSeconds(30));
        hostsDirectory = new HostsDirectory(hostsConfigDirectory, endpoint);
        this.credentialsFile = new DockerCredentialsFile(credentialsFile);
        this.timeouts = timeouts;
        this.logger = logger;
    }

    public static RegistryClient Create(ImageStoreOptions options, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RegistryRequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.RegistryReadTimeout, TimeSpan.Zero);
        return new RegistryClient(
            new RegistryEndpoint(options.InsecureRegistries ?? []),
            options.RegistryConfigDirectory,
            options.CredentialsFile,
            new RegistryTimeouts(options.RegistryRequestTimeout, options.RegistryReadTimeout),
            logger);
    }

    public IRegistrySession OpenSession(ImageReference reference, RegistryCredentials? credentials)
    {
        var hosts = hostsDirectory.Resolve(reference.Domain, reference.RegistryHost);
        var sessions = hosts
            .Select(host => new RegistrySession(clients.For(host.Tls), host, reference, CredentialsFor(host, reference, credentials), timeouts))
            .ToList();
        return new MirroredRegistrySession(sessions, reference, logger);
    }

    /// <summary>
    /// The CRI AuthConfig kubelet sends is for the image's own registry, so it goes to the
    /// upstream host only, never to a mirror (another party); every host, the upstream without
    /// AuthConfig included, may have an entry in the credentials file.
    /// </summary>
    private RegistryCredentials? CredentialsFor(RegistryHost host, ImageReference reference, RegistryCredentials? criCredentials)
    {
        var isUpstream = host.Namespace is null;
        if (isUpstream && criCredentials is not null)
        {
            return criCredentials;
        }
        return credentialsFile.Find(host.Host) ?? (isUpstream && host.Host == reference.RegistryHost ? credentialsFile.Find(reference.Domain) : null);
    }

    public void Dispose() => clients.Dispose();
}
