using CriOci.Core;
using CriOci.ImageStore.Content;
using CriOci.ImageStore.Metadata;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Snapshots;
using CriOci.ImageStore.Unpack;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore;

/// <summary>
/// The image store over one root directory: content/ (blobs), snapshots/ (unpacked layers)
/// and images/ (records). Pulls live in ImageService.Pull.cs, removal in
/// ImageService.Remove.cs, disk usage in ImageService.Usage.cs.
/// </summary>
internal sealed partial class ImageService : IImageService
{
    private const UnixFileMode RootDirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly string rootDirectory;
    private readonly ImagePlatform platform;
    private readonly int maxConcurrentLayers;
    private readonly IRegistryClient registry;
    private readonly IContentStore content;
    private readonly SnapshotStore snapshots;
    private readonly ImageMetadataStore metadata;
    private readonly LeaseSet leases = new();
    private readonly GarbageCollector collector;
    private readonly SingleFlight<ImageRecord> pulls = new();
    private readonly SingleFlight<bool> blobFetches = new();
    private readonly SingleFlight<bool> unpacks = new();
    private readonly RegistryRetry retry;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly PinnedImages pinned;

    public ImageService(ImageStoreOptions options, IRegistryClient registry, ILogger logger, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.RootDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentLayers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RegistryMaxAttempts, 1);
        rootDirectory = Path.GetFullPath(options.RootDirectory);
        if (!Directory.Exists(rootDirectory))
        {
            // Overlay reads lower layers with the mounter's credentials, so others need no
            // more than to pass through.
            Directory.CreateDirectory(rootDirectory, RootDirectoryMode);
        }
        pinned = new PinnedImages(options.PinnedImages);
        platform = options.Platform ?? PlatformSelector.Current;
        maxConcurrentLayers = options.MaxConcurrentLayers;
        this.registry = registry;
        this.logger = logger;
        this.time = time;
        retry = new RegistryRetry(
            new RegistryRetryOptions(options.RegistryMaxAttempts, options.RegistryRetryInitialDelay, options.RegistryRetryMaxDelay), time, logger);
        content = new LocalContentStore(rootDirectory);
        snapshots = new SnapshotStore(rootDirectory, new LayerUnpacker(logger));
        metadata = new ImageMetadataStore(rootDirectory, logger);
        collector = new GarbageCollector(metadata, content, snapshots, leases, logger);
        collector.CollectAll();
    }

    public ImageRecord? Find(string referenceOrId)
    {
        if (string.IsNullOrWhiteSpace(referenceOrId))
        {
            return null;
        }
        if (Digest.TryParse(referenceOrId, out var id))
        {
            return metadata.FindById(id.ToString());
        }
        if (ImageReference.TryParse(referenceOrId, out var reference, out _))
        {
            var byReference = reference.Digest is { } digest
                ? metadata.FindByRepoDigest(reference.WithDigest(digest))
                : metadata.FindByTag(reference.TagReference!);
            if (byReference is not null)
            {
                return byReference;
            }
        }
        // Like containerd's truncindex: a unique prefix of the ID, 12 hex at least, as docker prints it.
        var hex = referenceOrId.StartsWith($"{Digest.Sha256}:", StringComparison.Ordinal)
            ? referenceOrId[(Digest.Sha256.Length + 1)..]
            : referenceOrId;
        return hex.Length >= 12 && Digest.IsLowerHex(hex) ? metadata.FindByIdPrefix(hex) : null;
    }

    public IReadOnlyList<ImageRecord> List() => [.. metadata.All().Select(i => i.Image)];

    public bool IsPinned(ImageRecord image) => pinned.Contains(image);

    public IReadOnlyList<string> GetLayerDirectories(ImageRecord image)
    {
        var directories = new List<string>(image.ChainIds.Count);
        for (var i = image.ChainIds.Count - 1; i >= 0; i--)
        {
            var chainId = Digest.Parse(image.ChainIds[i]);
            var path = snapshots.FilesystemPath(chainId);
            if (!Directory.Exists(path))
            {
                throw new NotFoundException($"layer {chainId} of image {image.Id} is not unpacked; pull the image again");
            }
            directories.Add(path);
        }
        return directories;
    }
}
