using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace CriOci.TestSupport;

/// <summary>Which manifest schema skopeo writes when pushing an OCI layout to a registry.</summary>
public enum ManifestFormat
{
    /// <summary>application/vnd.oci.image.manifest.v1+json (skopeo --format oci).</summary>
    Oci,

    /// <summary>application/vnd.docker.distribution.manifest.v2+json (skopeo --format v2s2).</summary>
    DockerV2Schema2,
}

/// <summary>An image that is in a registry, by tag and by digest.</summary>
public sealed record PushedImage(string Registry, string Repository, string Tag, string ManifestDigest, string ManifestMediaType)
{
    /// <summary>"127.0.0.1:PORT/busybox:latest".</summary>
    public string Reference => $"{Registry}/{Repository}:{Tag}";

    /// <summary>"127.0.0.1:PORT/busybox@sha256:...".</summary>
    public string DigestReference => $"{Registry}/{Repository}@{ManifestDigest}";

    public override string ToString() => Reference;
}

/// <summary>The busybox test images as pushed into one registry.</summary>
public sealed record BusyboxImages(PushedImage Latest, PushedImage V2s2, PushedImage Layered);

/// <summary>
/// Builds small busybox images from Debian's static /bin/busybox (package busybox-static) with
/// umoci, caches the OCI layout on disk keyed by the binary's hash, and pushes them with skopeo.
/// </summary>
/// <remarks>
/// Layout tags: <see cref="LatestTag"/> is one gzip layer (busybox, applet symlinks in /bin,
/// /etc/passwd, /etc/group) with Cmd ["sh"], no Entrypoint, PATH set and WorkingDir "/".
/// <see cref="LayeredTag"/> adds a second layer that creates <see cref="LayeredAddedFilePath"/> and
/// deletes <see cref="LayeredRemovedPath"/>, so that layer holds a whiteout (bin/.wh.wc).
/// </remarks>
public static class TestImages
{
    public const string Repository = "busybox";
    public const string LatestTag = "latest";
    public const string V2s2Tag = "v2s2";
    public const string LayeredTag = "layered";

    public const string LayeredAddedFilePath = "/layer2.txt";
    public const string LayeredAddedFileContent = "second layer\n";
    public const string LayeredRemovedPath = "/bin/wc";

    public const string PathEnvironment = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public const string OciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerV2Schema2ManifestMediaType = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>Bump when the recipe below changes so cached layouts from the old recipe are not reused.</summary>
    private const string RecipeVersion = "r2";

    private static readonly TimeSpan CacheLockTimeout = TimeSpan.FromMinutes(5);
    private static readonly SemaphoreSlim BuildLock = new(1, 1);

    /// <summary>image-cache/ in the test output folder.</summary>
    public static string DefaultCacheDirectory => Path.Combine(AppContext.BaseDirectory, "image-cache");

    /// <summary>
    /// Returns the path of an OCI image layout holding the <see cref="LatestTag"/> and
    /// <see cref="LayeredTag"/> images, building it on first use. Safe to call from several
    /// tests and processes at once: builds are serialized by an in-process lock and a lock file.
    /// </summary>
    public static async Task<string> EnsureLayoutAsync(string? cacheDirectory = null, CancellationToken cancellationToken = default)
    {
        var busybox = TestDependencies.RequireBusybox();
        TestDependencies.RequireUmoci();
        cacheDirectory ??= DefaultCacheDirectory;
        Directory.CreateDirectory(cacheDirectory);

        var busyboxHash = await HashFileAsync(busybox, cancellationToken).ConfigureAwait(false);
        var layoutPath = Path.Combine(cacheDirectory, $"busybox-{busyboxHash[..16]}-{RecipeVersion}");

        await BuildLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Directory.Exists(layoutPath))
            {
                return layoutPath;
            }

            using var fileLock = await AcquireFileLockAsync(Path.Combine(cacheDirectory, ".lock"), cancellationToken).ConfigureAwait(false);
            if (Directory.Exists(layoutPath))
            {
                return layoutPath;
            }

            // Build beside the final path and rename, so a layout that exists is always complete.
            var buildDirectory = Path.Combine(cacheDirectory, $".build-{Guid.NewGuid():N}");
            try
            {
                var builtLayout = await BuildLayoutAsync(busybox, buildDirectory, cancellationToken).ConfigureAwait(false);
                Directory.Move(builtLayout, layoutPath);
            }
            finally
            {
                DeleteDirectoryQuietly(buildDirectory);
            }

            DeleteStaleLayouts(cacheDirectory, keep: layoutPath);
            return layoutPath;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    /// <summary>Builds (or reuses) the layout and pushes busybox:latest (OCI), busybox:v2s2 (Docker schema 2) and busybox:layered (OCI).</summary>
    public static async Task<BusyboxImages> PushBusyboxImagesAsync(
        string registryHost,
        string? cacheDirectory = null,
        CancellationToken cancellationToken = default)
    {
        var layout = await EnsureLayoutAsync(cacheDirectory, cancellationToken).ConfigureAwait(false);
        var latest = await PushAsync(layout, LatestTag, registryHost, Repository, LatestTag, ManifestFormat.Oci, cancellationToken).ConfigureAwait(false);
        var v2s2 = await PushAsync(layout, LatestTag, registryHost, Repository, V2s2Tag, ManifestFormat.DockerV2Schema2, cancellationToken).ConfigureAwait(false);
        var layered = await PushAsync(layout, LayeredTag, registryHost, Repository, LayeredTag, ManifestFormat.Oci, cancellationToken).ConfigureAwait(false);
        return new BusyboxImages(latest, v2s2, layered);
    }

    /// <summary>Pushes one tag of an OCI layout to a plain-HTTP registry with skopeo.</summary>
    public static async Task<PushedImage> PushAsync(
        string layoutPath,
        string layoutTag,
        string registryHost,
        string repository,
        string tag,
        ManifestFormat format,
        CancellationToken cancellationToken = default)
    {
        var skopeo = TestDependencies.RequireSkopeo();
        var digestFile = Path.Combine(Path.GetTempPath(), $"crioci-skopeo-digest-{Guid.NewGuid():N}");
        try
        {
            await CommandRunner.RunAsync(
                skopeo,
                [
                    // No /etc/containers/policy.json is needed for pushing our own images.
                    "--insecure-policy",
                    "copy",
                    "--quiet",
                    "--dest-tls-verify=false",
                    "--dest-no-creds",
                    "--format", format == ManifestFormat.Oci ? "oci" : "v2s2",
                    "--digestfile", digestFile,
                    $"oci:{layoutPath}:{layoutTag}",
                    $"docker://{registryHost}/{repository}:{tag}",
                ],
                TimeSpan.FromMinutes(2),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            var digest = (await File.ReadAllTextAsync(digestFile, cancellationToken).ConfigureAwait(false)).Trim();
            var mediaType = format == ManifestFormat.Oci ? OciManifestMediaType : DockerV2Schema2ManifestMediaType;
            return new PushedImage(registryHost, repository, tag, digest, mediaType);
        }
        finally
        {
            File.Delete(digestFile);
        }
    }

    private static async Task<string> BuildLayoutAsync(string busybox, string buildDirectory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(buildDirectory);
        var layout = Path.Combine(buildDirectory, "layout");
        var baseBundle = Path.Combine(buildDirectory, "bundle-base");
        var layeredBundle = Path.Combine(buildDirectory, "bundle-layered");
        var latest = $"{layout}:{LatestTag}";

        await Umoci(cancellationToken, "init", "--layout", layout).ConfigureAwait(false);
        await Umoci(cancellationToken, "new", "--image", latest).ConfigureAwait(false);

        // Layer 1: busybox and its applets.
        await Umoci(cancellationToken, UnpackArguments(latest, baseBundle)).ConfigureAwait(false);
        var applets = await ListAppletsAsync(busybox, cancellationToken).ConfigureAwait(false);
        PopulateBaseRootfs(Path.Combine(baseBundle, "rootfs"), busybox, applets);
        await Umoci(cancellationToken, "repack", "--history.created_by", "crioci TestImages: busybox-static and applet symlinks", "--image", latest, baseBundle)
            .ConfigureAwait(false);
        await Umoci(
            cancellationToken,
            "config",
            "--image", latest,
            "--clear", "config.entrypoint",
            "--clear", "config.cmd",
            "--clear", "config.env",
            "--config.cmd", "sh",
            "--config.env", PathEnvironment,
            "--config.workingdir", "/",
            "--history.created_by", "crioci TestImages: config").ConfigureAwait(false);

        // Layer 2 (tag layered): add a file and delete one, so the layer carries a whiteout.
        await Umoci(cancellationToken, UnpackArguments(latest, layeredBundle)).ConfigureAwait(false);
        var layeredRootfs = Path.Combine(layeredBundle, "rootfs");
        File.WriteAllText(Path.Combine(layeredRootfs, LayeredAddedFilePath.TrimStart('/')), LayeredAddedFileContent);
        File.Delete(Path.Combine(layeredRootfs, LayeredRemovedPath.TrimStart('/')));
        await Umoci(cancellationToken, "repack", "--history.created_by", "crioci TestImages: add /layer2.txt, delete /bin/wc", "--image", $"{layout}:{LayeredTag}", layeredBundle)
            .ConfigureAwait(false);

        await AddManifestMediaTypesAsync(layout, cancellationToken).ConfigureAwait(false);
        await Umoci(cancellationToken, "gc", "--layout", layout).ConfigureAwait(false);
        return layout;
    }

    /// <summary>
    /// umoci 0.4 writes manifests without the optional "mediaType" field and skopeo pushes an OCI
    /// manifest byte for byte, but the images a runtime meets in practice (BuildKit, containerd,
    /// skopeo conversions) carry it, so the layout's manifests are rewritten with it and index.json
    /// is repointed. The old manifest blobs are left for umoci gc.
    /// </summary>
    private static async Task AddManifestMediaTypesAsync(string layout, CancellationToken cancellationToken)
    {
        var indexPath = Path.Combine(layout, "index.json");
        var index = JsonNode.Parse(await File.ReadAllBytesAsync(indexPath, cancellationToken).ConfigureAwait(false))!.AsObject();
        foreach (var descriptor in index["manifests"]!.AsArray().Select(node => node!.AsObject()))
        {
            var digest = descriptor["digest"]!.GetValue<string>();
            var manifest = JsonNode.Parse(await File.ReadAllBytesAsync(BlobPath(layout, digest), cancellationToken).ConfigureAwait(false))!.AsObject();
            if (manifest.ContainsKey("mediaType"))
            {
                continue;
            }

            var rewritten = new JsonObject
            {
                ["schemaVersion"] = manifest["schemaVersion"]!.DeepClone(),
                ["mediaType"] = OciManifestMediaType,
            };
            foreach (var (name, value) in manifest.Where(property => property.Key != "schemaVersion"))
            {
                rewritten[name] = value?.DeepClone();
            }

            var bytes = Encoding.UTF8.GetBytes(rewritten.ToJsonString());
            var newDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
            await File.WriteAllBytesAsync(BlobPath(layout, newDigest), bytes, cancellationToken).ConfigureAwait(false);
            descriptor["digest"] = newDigest;
            descriptor["size"] = bytes.Length;
        }

        await File.WriteAllTextAsync(indexPath, index.ToJsonString(), cancellationToken).ConfigureAwait(false);
    }

    private static string BlobPath(string layout, string digest)
    {
        var separator = digest.IndexOf(':', StringComparison.Ordinal);
        return Path.Combine(layout, "blobs", digest[..separator], digest[(separator + 1)..]);
    }

    private static string[] UnpackArguments(string image, string bundle) =>
        TestDependencies.IsRoot
            ? ["unpack", "--image", image, bundle]
            : ["unpack", "--rootless", "--image", image, bundle];

    private static async Task<IReadOnlyList<string>> ListAppletsAsync(string busybox, CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync(busybox, ["--list"], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        var applets = result.StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(name => name != "busybox" && !name.Contains('/', StringComparison.Ordinal))
            .ToList();
        foreach (var required in new[] { "sh", "wc", "cat", "sleep" })
        {
            if (!applets.Contains(required))
            {
                throw new MissingTestDependencyException(
                    $"{busybox} has no '{required}' applet; the test images need Debian's busybox-static build.");
            }
        }

        return applets;
    }

    private static void PopulateBaseRootfs(string rootfs, string busybox, IReadOnlyList<string> applets)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The busybox test images are built on Linux only.");
        }

        const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

        foreach (var directory in new[] { "bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr/bin", "usr/sbin", "var/tmp" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, directory));
            File.SetUnixFileMode(Path.Combine(rootfs, directory), Mode0755);
        }

        const UnixFileMode StickyWorldWritable = UnixFileMode.StickyBit | UnixFileMode.UserRead | UnixFileMode.UserWrite |
            UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
            UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), StickyWorldWritable);
        File.SetUnixFileMode(Path.Combine(rootfs, "var/tmp"), StickyWorldWritable);
        File.SetUnixFileMode(Path.Combine(rootfs, "root"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var busyboxInImage = Path.Combine(rootfs, "bin", "busybox");
        File.Copy(busybox, busyboxInImage);
        File.SetUnixFileMode(busyboxInImage, Mode0755);

        // Every applet in /bin, like Docker Hub's busybox image; relative targets keep the links valid in any rootfs.
        foreach (var applet in applets)
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        var passwd = Path.Combine(rootfs, "etc", "passwd");
        File.WriteAllText(passwd, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.SetUnixFileMode(passwd, Mode0644);
        var group = Path.Combine(rootfs, "etc", "group");
        File.WriteAllText(group, "root:x:0:\nnobody:x:65534:\n");
        File.SetUnixFileMode(group, Mode0644);
    }

    private static Task<CommandResult> Umoci(CancellationToken cancellationToken, params string[] arguments) =>
        CommandRunner.RunAsync(TestDependencies.UmociPath, arguments, TimeSpan.FromMinutes(2), cancellationToken: cancellationToken);

    private static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash);
    }

    private static async Task<FileStream> AcquireFileLockAsync(string lockPath, CancellationToken cancellationToken)
    {
        // FileShare.None is an exclusive flock(2) on Linux, so this also serializes separate test processes.
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (stopwatch.Elapsed < CacheLockTimeout)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Layouts from an older recipe or busybox build are never used again.</summary>
    private static void DeleteStaleLayouts(string cacheDirectory, string keep)
    {
        foreach (var directory in Directory.EnumerateDirectories(cacheDirectory, "busybox-*"))
        {
            if (!string.Equals(Path.GetFullPath(directory), Path.GetFullPath(keep), StringComparison.Ordinal))
            {
                DeleteDirectoryQuietly(directory);
            }
        }
    }

    private static void DeleteDirectoryQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover .build-* directory is harmless; the next build uses a new name.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
