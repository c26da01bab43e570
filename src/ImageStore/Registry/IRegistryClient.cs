using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Registry;

/// <summary>
/// Talks to OCI distribution registries. A session serves one repository with one set of
/// credentials and keeps the token it earned, so a pull authenticates once.
/// </summary>
internal interface IRegistryClient
{
    IRegistrySession OpenSession(ImageReference reference, RegistryCredentials? credentials);
}

internal interface IRegistrySession
{
    /// <summary>
    /// Fetches a manifest or index by tag or digest. The returned digest is computed from the
    /// bytes and, when the request named a digest, already checked against it.
    /// </summary>
    Task<FetchedManifest> GetManifestAsync(string tagOrDigest, CancellationToken cancellationToken);

    /// <summary>Opens a blob for reading, following redirects. The caller verifies the bytes.</summary>
    Task<Stream> OpenBlobAsync(Digest digest, CancellationToken cancellationToken);
}

/// <param name="MediaType">One of the accepted manifest or index media types, never schema 1.</param>
internal sealed record FetchedManifest(string MediaType, byte[] Content, Digest Digest);
