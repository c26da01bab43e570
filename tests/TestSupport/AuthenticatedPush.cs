namespace CriOci.TestSupport;

/// <summary>Pushes the busybox test images with skopeo to a registry that wants credentials (htpasswd or token auth).</summary>
public static class AuthenticatedPush
{
    /// <summary>Pushes the layout's <see cref="TestImages.LatestTag"/> as OCI to <paramref name="registryHost"/>/busybox:<paramref name="tag"/>.</summary>
    public static async Task<PushedImage> PushLatestAsync(
        string registryHost, string tag, string user, string password, CancellationToken cancellationToken = default)
    {
        var layout = await TestImages.EnsureLayoutAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var skopeo = TestDependencies.RequireSkopeo();
        var digestFile = Path.Combine(Path.GetTempPath(), $"crioci-skopeo-digest-{Guid.NewGuid():N}");
        try
        {
            await CommandRunner.RunAsync(
                skopeo,
                [
                    "--insecure-policy",
                    "copy",
                    "--quiet",
                    "--dest-tls-verify=false",
                    "--dest-creds", $"{user}:{password}",
                    "--format", "oci",
                    "--digestfile", digestFile,
                    $"oci:{layout}:{TestImages.LatestTag}",
                    $"docker://{registryHost}/{TestImages.Repository}:{tag}",
                ],
                TimeSpan.FromMinutes(2),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            var digest = (await File.ReadAllTextAsync(digestFile, cancellationToken).ConfigureAwait(false)).Trim();
            return new PushedImage(registryHost, TestImages.Repository, tag, digest, TestImages.OciManifestMediaType);
        }
        finally
        {
            File.Delete(digestFile);
        }
    }
}
