using System.Text.Json;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Unpack.Interop;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Metadata;

/// <summary>
/// Image records, one JSON file per image under &lt;root&gt;/images/&lt;id hex&gt;.json, written
/// atomically and all loaded at construction, so a restarted daemon sees every image. A tag
/// names one image at a time: committing a tag takes it from whichever image had it.
/// </summary>
internal sealed class ImageMetadataStore
{
    private readonly Lock gate = new();
    private readonly string imagesDirectory;
    private readonly Dictionary<string, StoredImage> images = new(StringComparer.Ordinal);
    private readonly ILogger logger;

    public ImageMetadataStore(string rootDirectory, ILogger logger)
    {
        imagesDirectory = Path.Combine(rootDirectory, "images");
        this.logger = logger;
        Directory.CreateDirectory(imagesDirectory);
        Load();
    }

    public IReadOnlyList<StoredImage> All()
    {
        lock (gate)
        {
            return [.. images.Values];
        }
    }

    public ImageRecord? FindById(string id)
    {
        lock (gate)
        {
            return images.GetValueOrDefault(id)?.Image;
        }
    }

    public ImageRecord? FindByTag(string tagReference) =>
        FindFirst(image => image.RepoTags.Contains(tagReference, StringComparer.Ordinal));

    public ImageRecord? FindByRepoDigest(string digestReference) =>
        FindFirst(image => image.RepoDigests.Contains(digestReference, StringComparer.Ordinal));

    /// <summary>The one image whose ID hex starts with <paramref name="hexPrefix"/>; null when none or several do.</summary>
    public ImageRecord? FindByIdPrefix(string hexPrefix)
    {
        var prefix = $"{Digest.Sha256}:{hexPrefix}";
        lock (gate)
        {
            ImageRecord? found = null;
            foreach (var image in images.Values)
            {
                if (image.Image.Id.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (found is not null)
                    {
                        return null;
                    }
                    found = image.Image;
                }
            }
            return found;
        }
    }

    /// <summary>
    /// Stores <paramref name="pulled"/>, merged with the record of the same image if there is
    /// one, and moves <paramref name="pulled"/>'s tags away from other images. Returns the merged record.
    /// </summary>
    public ImageRecord Commit(StoredImage pulled)
    {
        lock (gate)
        {
            var merged = pulled;
            if (images.TryGetValue(pulled.Image.Id, out var existing))
            {
                merged = pulled with
                {
                    Image = pulled.Image with
                    {
                        RepoTags = Union(existing.Image.RepoTags, pulled.Image.RepoTags),
                        RepoDigests = Union(existing.Image.RepoDigests, pulled.Image.RepoDigests),
                    },
                    Blobs = Union(existing.Blobs, pulled.Blobs),
                };
            }
            foreach (var other in images.Values.Where(i => i.Image.Id != pulled.Image.Id).ToList())
            {
                var remainingTags = other.Image.RepoTags.Except(pulled.Image.RepoTags, StringComparer.Ordinal).ToList();
                if (remainingTags.Count != other.Image.RepoTags.Count)
                {
                    Log.TagMoved(logger, string.Join(", ", other.Image.RepoTags.Except(remainingTags)), other.Image.Id, pulled.Image.Id);
                    Write(other with { Image = other.Image with { RepoTags = remainingTags } });
                }
            }
            Write(merged);
            return merged.Image;
        }
    }

    /// <summary>Deletes the image's record; null when it was not there.</summary>
    public StoredImage? Remove(string id)
    {
        lock (gate)
        {
            if (!images.Remove(id, out var removed))
            {
                return null;
            }
            File.Delete(PathOf(id));
            // Make the removal durable before garbage collection deletes the layers it used.
            Syscalls.FsyncDirectory(imagesDirectory);
            return removed;
        }
    }

    private ImageRecord? FindFirst(Func<ImageRecord, bool> predicate)
    {
        lock (gate)
        {
            return images.Values.Select(i => i.Image).FirstOrDefault(predicate);
        }
    }

    private void Write(StoredImage image)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(image, MetadataJsonContext.Default.StoredImage);
        AtomicFile.WriteAllBytes(PathOf(image.Image.Id), bytes);
        images[image.Image.Id] = image;
    }

    private string PathOf(string id) => Path.Combine(imagesDirectory, Digest.Parse(id).Hex + ".json");

    private void Load()
    {
        foreach (var file in Directory.EnumerateFiles(imagesDirectory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.'))
            {
                // A temporary file of an atomic write that a crash interrupted.
                File.Delete(file);
                continue;
            }
            if (!name.EndsWith(".json", StringComparison.Ordinal))
            {
                continue;
            }
            try
            {
                var image = JsonSerializer.Deserialize(File.ReadAllBytes(file), MetadataJsonContext.Default.StoredImage);
                if (image?.Image is null || !Digest.TryParse(image.Image.Id, out var id) || $"{id.Hex}.json" != name)
                {
                    throw new JsonException("the record's image ID does not match the file name");
                }
                images[image.Image.Id] = image;
            }
            catch (JsonException e)
            {
                // One bad file must not hide every other image; it stays for inspection.
                Log.MetadataUnreadable(logger, file, e);
            }
        }
    }

    private static List<string> Union(IReadOnlyList<string> first, IReadOnlyList<string> second) =>
        [.. first.Union(second, StringComparer.Ordinal)];
}
