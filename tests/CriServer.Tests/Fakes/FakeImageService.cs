using CriOci.ImageStore;

namespace CriOci.CriServer.Tests.Fakes;

/// <summary>An in-memory image store: Find matches an ID or a repo tag exactly; calls are recorded.</summary>
internal sealed class FakeImageService : IImageService
{
    public List<ImageRecord> Images { get; } = [];

    public List<string> Calls { get; } = [];

    public RegistryCredentials? LastCredentials { get; private set; }

    public static ImageRecord Record(string id, string tag, string? user = null) => new(
        Id: id,
        RepoTags: [tag],
        RepoDigests: [$"{tag.Split(':')[0]}@sha256:{new string('d', 64)}"],
        Size: 1234,
        Config: new ImageConfig(
            User: user,
            Env: ["PATH=/bin"],
            Entrypoint: ["/bin/sh"],
            Cmd: ["-c", "sleep 1"],
            WorkingDir: "/work",
            Labels: new Dictionary<string, string> { ["a"] = "b" },
            StopSignal: "SIGQUIT",
            ExposedPorts: [],
            Os: "linux",
            Architecture: "amd64"),
        ChainIds: ["sha256:chain"],
        ManifestDigest: "sha256:manifest",
        PulledAt: DateTimeOffset.UnixEpoch);

    /// <summary>When set, PullAsync throws it (after recording the call), as a failing registry makes the real store do.</summary>
    public Exception? PullError { get; set; }

    public Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        Calls.Add($"Pull {reference}");
        LastCredentials = credentials;
        if (PullError is { } error)
        {
            return Task.FromException<ImageRecord>(error);
        }
        var record = Record("sha256:" + new string('a', 64), reference);
        Images.Add(record);
        return Task.FromResult(record);
    }

    public ImageRecord? Find(string referenceOrId)
    {
        Calls.Add($"Find {referenceOrId}");
        return Images.FirstOrDefault(image => image.Id == referenceOrId || image.RepoTags.Contains(referenceOrId));
    }

    public IReadOnlyList<ImageRecord> List() => Images;

    public Task RemoveAsync(string referenceOrId, CancellationToken cancellationToken)
    {
        Calls.Add($"Remove {referenceOrId}");
        Images.RemoveAll(image => image.Id == referenceOrId);
        return Task.CompletedTask;
    }

    public Task<GarbageCollectionResult> CollectGarbageAsync(CancellationToken cancellationToken)
    {
        Calls.Add("CollectGarbage");
        return Task.FromResult(new GarbageCollectionResult(0, 0, 0));
    }

    public Task<IReadOnlyList<ImageRecord>> ImportLayoutAsync(string layoutDirectory, string? baseName, CancellationToken cancellationToken)
    {
        Calls.Add($"Import {layoutDirectory}");
        return Task.FromResult<IReadOnlyList<ImageRecord>>([]);
    }

    public Task ExportLayoutAsync(string referenceOrId, string layoutDirectory, CancellationToken cancellationToken)
    {
        Calls.Add($"Export {referenceOrId} {layoutDirectory}");
        return Task.CompletedTask;
    }

    /// <summary>IDs IsPinned answers true for.</summary>
    public HashSet<string> PinnedIds { get; } = [];

    public bool IsPinned(ImageRecord image) => PinnedIds.Contains(image.Id);

    public ImageFilesystemUsage GetFilesystemUsage() => new("/var/lib/crioci/images", 4096, 7);

    public IReadOnlyList<string> GetLayerDirectories(ImageRecord image) =>
        [.. image.ChainIds.Reverse().Select(chainId => $"/layers/{chainId}")];
}
