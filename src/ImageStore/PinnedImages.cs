using CriOci.Core;
using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore;

/// <summary>
/// The configured pinned images, normalised once: a reference matches an image holding that
/// tag or repo digest ("pause:3.10" is "docker.io/library/pause:3.10"), an ID matches the
/// image with that ID. Pinning is a promise to kubelet's image GC, like containerd's
/// io.cri-containerd.pinned label: an explicit RemoveImage still removes the image, as it does
/// in containerd.
/// </summary>
internal sealed class PinnedImages
{
    private readonly HashSet<string> references = new(StringComparer.Ordinal);

    public PinnedImages(IReadOnlyList<string> configured)
    {
        foreach (var entry in configured)
        {
            if (Digest.TryParse(entry, out var id))
            {
                references.Add(id.ToString());
                continue;
            }
            if (!ImageReference.TryParse(entry, out var reference, out var error))
            {
                // Named by its config key: the daemon stops on it at start with this message.
                throw new InvalidArgumentException($"images.pinned: \"{entry}\" is not an image reference or ID: {error}");
            }
            // "name:tag@digest" is stored by its digest alone, as a pull of it records it.
            references.Add(reference.Digest is { } digest ? reference.WithDigest(digest) : reference.ToString());
        }
    }

    public bool Contains(ImageRecord image) =>
        references.Count > 0
        && (references.Contains(image.Id) || image.RepoTags.Any(references.Contains) || image.RepoDigests.Any(references.Contains));
}
