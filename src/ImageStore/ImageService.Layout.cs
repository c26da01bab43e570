using System.Text.RegularExpressions;
using CriOci.Core;
using CriOci.ImageStore.Layout;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore;

internal sealed partial class ImageService
{
    /// <summary>A tag as the distribution reference grammar spells it.</summary>
    [GeneratedRegex(@"^[\w][\w.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public async Task<IReadOnlyList<ImageRecord>> ImportLayoutAsync(string layoutDirectory, string? baseName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        var layout = Path.GetFullPath(layoutDirectory);
        var index = OciLayoutFiles.ReadIndex(layout);
        var entries = index.Manifests ?? [];
        if (entries.Count == 0)
        {
            throw new InvalidArgumentException($"image layout {layout} holds no images (index.json lists no manifests)");
        }
        var imported = new List<ImageRecord>();
        foreach (var entry in entries)
        {
            var digest = DescriptorDigest(entry, $"index.json entry of image layout {layout}");
            if (entry.MediaType is not { } mediaType || !(MediaTypes.IsIndex(mediaType) || MediaTypes.IsManifest(mediaType)))
            {
                throw new FailedPreconditionException(
                    $"image layout {layout}: entry {digest} is a \"{entry.MediaType}\", not an image manifest or index");
            }
            var reference = ImportReference(entry, digest, baseName, layout);
            var record = await pulls.RunAsync(
                $"import {reference} from {layout}",
                token => FetchImageAsync(reference, digest.ToString(), () => new OciLayoutSession(layout), token),
                cancellationToken).ConfigureAwait(false);
            imported.Add(record);
        }
        return imported;
    }

    /// <summary>
    /// The name an index.json entry is recorded under: containerd's full-name annotation, a
    /// full reference in ref.name, or ref.name as a tag of <paramref name="baseName"/>; an
    /// entry without a name gets <paramref name="baseName"/>@digest.
    /// </summary>
    private static ImageReference ImportReference(OciDescriptor entry, Digest digest, string? baseName, string layout)
    {
        var annotations = entry.Annotations ?? new Dictionary<string, string>();
        if (annotations.GetValueOrDefault(OciLayoutFiles.ContainerdNameAnnotation) is { Length: > 0 } fullName)
        {
            return ImageReference.Parse(fullName);
        }
        var refName = annotations.GetValueOrDefault(OciLayoutFiles.RefNameAnnotation);
        if (!string.IsNullOrEmpty(refName) && (refName.Contains('/', StringComparison.Ordinal) || refName.Contains(':', StringComparison.Ordinal)))
        {
            return ImageReference.Parse(refName);
        }
        if (string.IsNullOrEmpty(baseName))
        {
            throw new InvalidArgumentException(
                $"image layout {layout}: entry {digest} " + (string.IsNullOrEmpty(refName) ? "has no name" : $"is named only by the tag \"{refName}\"")
                + "; give a base name (e.g. registry.example/app) to import it under");
        }
        var name = ImageReference.Parse(baseName);
        if (string.IsNullOrEmpty(refName))
        {
            return name with { Tag = null, Digest = digest.ToString() };
        }
        return TagPattern().IsMatch(refName)
            ? name with { Tag = refName, Digest = null }
            : throw new InvalidArgumentException($"image layout {layout}: entry {digest} has ref.name \"{refName}\", which is not a tag");
    }

    public async Task ExportLayoutAsync(string referenceOrId, string layoutDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        var image = Find(referenceOrId) ?? throw new NotFoundException($"image {referenceOrId} is not in the store");
        var layout = Path.GetFullPath(layoutDirectory);
        using var lease = leases.Acquire();
        var manifestDigest = Digest.Parse(image.ManifestDigest);
        lease.Add(manifestDigest.ToString());
        var manifestBytes = content.ReadAllBytes(manifestDigest);
        var what = $"manifest {manifestDigest} of image {image.Id}";
        var mediaType = ManifestKind.Detect(null, manifestBytes, what);
        var manifest = Deserialize(manifestBytes, RegistryJsonContext.Default.OciManifest, what);
        var (config, configDigest, layers) = ReadManifest(manifest, ImageReference.Parse(image.RepoTags.FirstOrDefault() ?? image.RepoDigests.FirstOrDefault() ?? $"export/{Digest.Parse(image.Id).Hex[..12]}"));

        Directory.CreateDirectory(layout);
        var existing = File.Exists(Path.Combine(layout, OciLayoutFiles.IndexFileName))
            ? OciLayoutFiles.ReadIndex(layout).Manifests ?? []
            : [];
        foreach (var digest in new[] { manifestDigest, configDigest }.Concat(layers.Select(l => l.Digest)))
        {
            lease.Add(digest.ToString());
            await CopyBlobAsync(digest, layout, cancellationToken).ConfigureAwait(false);
        }

        var names = image.RepoTags.Count > 0 ? image.RepoTags : image.RepoDigests.Take(1).ToList();
        var platform = new OciPlatform(image.Config.Os, image.Config.Architecture);
        var added = names.Count == 0
            ? [new OciDescriptor(mediaType, manifestDigest.ToString(), manifestBytes.Length, platform)]
            : names.Select(name => new OciDescriptor(mediaType, manifestDigest.ToString(), manifestBytes.Length, platform, Annotations: Annotations(name))).ToList();
        var addedNames = names.ToHashSet(StringComparer.Ordinal);
        var kept = existing.Where(e => e.Annotations?.GetValueOrDefault(OciLayoutFiles.ContainerdNameAnnotation) is not { } n || !addedNames.Contains(n));
        OciLayoutFiles.WriteLayoutFile(layout);
        OciLayoutFiles.WriteIndex(layout, [.. kept, .. added]);
    }

    private static Dictionary<string, string> Annotations(string name)
    {
        var reference = ImageReference.Parse(name);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [OciLayoutFiles.ContainerdNameAnnotation] = name };
        if (reference.Digest is null && reference.Tag is { } tag)
        {
            annotations[OciLayoutFiles.RefNameAnnotation] = tag;
        }
        return annotations;
    }

    /// <summary>Copies through a temporary file and a rename, so a blob in the layout is always whole.</summary>
    private async Task CopyBlobAsync(Digest digest, string layout, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(layout, "blobs", digest.Algorithm);
        var target = Path.Combine(directory, digest.Hex);
        var size = content.SizeOf(digest) ?? throw new NotFoundException($"blob {digest} is not in the content store; pull the image again");
        if (new FileInfo(target) is { Exists: true } present && present.Length == size)
        {
            return;
        }
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".tmp-{Guid.NewGuid():N}");
        try
        {
            var source = new FileStream(content.PathOf(digest), FileMode.Open, FileAccess.Read, FileShare.Read, 128 * 1024, FileOptions.Asynchronous);
            await using (source.ConfigureAwait(false))
            {
                var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 128 * 1024, FileOptions.Asynchronous);
                await using (destination.ConfigureAwait(false))
                {
                    await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
                    destination.Flush(flushToDisk: true);
                }
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
