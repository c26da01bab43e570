using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CriOci.Core;
using CriOci.ImageStore.Metadata;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Snapshots;
using CriOci.ImageStore.Telemetry;

namespace CriOci.ImageStore;

internal sealed partial class ImageService
{
    /// <summary>Image configs are a few KiB; this leaves room for huge histories and labels.</summary>
    internal const long MaxConfigBytes = 16 * 1024 * 1024;

    public async Task<ImageRecord> PullAsync(string reference, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        var parsed = ImageReference.Parse(reference);
        // A digest names immutable content: when it is here, the registry has nothing newer.
        if (parsed.Digest is { } digest && metadata.FindByRepoDigest(parsed.WithDigest(digest)) is { } stored)
        {
            return stored;
        }
        return await pulls.RunAsync(parsed.ToString(), token => PullFromRegistryAsync(parsed, credentials, token), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Resolves the reference to one platform's manifest, fetches config and layers (layers in
    /// parallel, each unpacked as soon as it is verified) and records the image. Everything
    /// used is leased until the record is written, so a concurrent removal cannot collect it.
    /// </summary>
    private Task<ImageRecord> PullFromRegistryAsync(
        ImageReference reference, RegistryCredentials? credentials, CancellationToken cancellationToken) =>
        FetchImageAsync(reference, reference.ManifestReference, () => registry.OpenSession(reference, credentials), cancellationToken);

    /// <summary>
    /// The pull pipeline over any source of manifests and blobs: a registry (with its mirrors)
    /// or an OCI image layout being imported. <paramref name="manifestReference"/> is the tag
    /// or digest asked of the source; the record gets <paramref name="reference"/>'s tag.
    /// </summary>
    private async Task<ImageRecord> FetchImageAsync(
        ImageReference reference, string manifestReference, Func<IRegistrySession> openSession, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var trace = new PullTrace(reference.ToString());
        Log.PullStarted(logger, reference.ToString());
        using var lease = leases.Acquire();
        try
        {
            var session = openSession();
            var blobs = new List<string>();

            using var resolveSpan = PullTrace.StartStep("image.resolve");
            var top = await retry.RunAsync(
                token => session.GetManifestAsync(manifestReference, token), $"fetching the manifest of {reference}", cancellationToken)
                .ConfigureAwait(false);
            await StoreManifestAsync(top, lease, blobs, cancellationToken).ConfigureAwait(false);
            var manifestDocument = MediaTypes.IsIndex(top.MediaType)
                ? await ResolvePlatformManifestAsync(session, top, reference, lease, blobs, cancellationToken).ConfigureAwait(false)
                : top;
            resolveSpan?.SetTag("image.manifest.digest", manifestDocument.Digest.ToString());
            resolveSpan?.Dispose();
            var manifest = Deserialize(manifestDocument.Content, RegistryJsonContext.Default.OciManifest, $"manifest of {reference}");
            var (configDescriptor, configDigest, layers) = ReadManifest(manifest, reference);
            if (configDescriptor.Size > MaxConfigBytes)
            {
                // The config is read into memory whole; a registry must not make that unbounded.
                throw new FailedPreconditionException(
                    $"config {configDigest} of {reference} is {configDescriptor.Size} bytes, more than the {MaxConfigBytes} an image config may have");
            }

            await FetchBlobAsync(session, configDigest, configDescriptor.Size, lease, cancellationToken).ConfigureAwait(false);
            blobs.Add(configDigest.ToString());
            var config = Deserialize(content.ReadAllBytes(configDigest), RegistryJsonContext.Default.OciImageConfig, $"config of {reference}");
            var diffIds = ReadDiffIds(config, layers.Count, reference);
            var chainIds = ChainId.Compute(diffIds);

            var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxConcurrentLayers, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, layers.Count), parallel, async (i, token) =>
            {
                using var layerSpan = PullTrace.StartLayer(layers[i].Digest.ToString(), layers[i].Size);
                using (PullTrace.StartStep("image.layer.fetch"))
                {
                    await FetchBlobAsync(session, layers[i].Digest, layers[i].Size, lease, token).ConfigureAwait(false);
                }
                using (PullTrace.StartStep("image.layer.unpack"))
                {
                    await UnpackLayerAsync(layers[i].Digest, diffIds[i], chainIds[i], reference, lease, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
            blobs.AddRange(layers.Select(l => l.Digest.ToString()));

            var image = new ImageRecord(
                Id: configDigest.ToString(),
                // Docker drops the tag of a name:tag@digest reference; so does containerd.
                RepoTags: reference.Digest is null && reference.TagReference is { } tag ? [tag] : [],
                RepoDigests: [reference.WithDigest(top.Digest.ToString())],
                Size: manifestDocument.Content.Length + configDescriptor.Size + layers.Sum(l => l.Size),
                Config: ImageConfigConverter.From(config),
                ChainIds: [.. chainIds.Select(c => c.ToString())],
                ManifestDigest: manifestDocument.Digest.ToString(),
                PulledAt: time.GetUtcNow());
            var committed = metadata.Commit(new StoredImage(StoredImage.CurrentSchemaVersion, image, [.. blobs.Distinct()]));
            trace.Succeeded(committed.Id, committed.Size);
            Log.PullCompleted(logger, reference.ToString(), committed.Id, committed.Size, (long)time.GetElapsedTime(started).TotalMilliseconds);
            return committed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A dropped connection mid-blob, a full disk: the node's surroundings failed, not the request.
            var wrapped = StoreFailure.Classify(e, $"pulling {reference}");
            trace.Failed(wrapped);
            Log.PullFailed(logger, reference.ToString(), wrapped);
            throw wrapped;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            trace.Failed(e);
            Log.PullFailed(logger, reference.ToString(), e);
            throw;
        }
    }

    private async Task<FetchedManifest> ResolvePlatformManifestAsync(
        IRegistrySession session,
        FetchedManifest index,
        ImageReference reference,
        LeaseSet.Lease lease,
        List<string> blobs,
        CancellationToken cancellationToken)
    {
        var parsed = Deserialize(index.Content, RegistryJsonContext.Default.OciIndex, $"index of {reference}");
        var chosen = PlatformSelector.Select(parsed.Manifests ?? [], platform, reference.ToString());
        var digest = DescriptorDigest(chosen, $"index entry of {reference}");
        var manifest = await retry.RunAsync(
            token => session.GetManifestAsync(digest.ToString(), token), $"fetching manifest {digest} of {reference}", cancellationToken)
            .ConfigureAwait(false);
        if (!MediaTypes.IsManifest(manifest.MediaType))
        {
            throw new FailedPreconditionException(
                $"{reference}: the index entry for {platform.Os}/{platform.Architecture} is a {manifest.MediaType}, not an image manifest");
        }
        await StoreManifestAsync(manifest, lease, blobs, cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    private async Task StoreManifestAsync(FetchedManifest manifest, LeaseSet.Lease lease, List<string> blobs, CancellationToken cancellationToken)
    {
        lease.Add(manifest.Digest.ToString());
        if (!content.Exists(manifest.Digest))
        {
            using var stream = new MemoryStream(manifest.Content, writable: false);
            await content.IngestAsync(stream, manifest.Digest, manifest.Content.Length, cancellationToken).ConfigureAwait(false);
            PullMetrics.RecordStored(manifest.Content.Length);
        }
        blobs.Add(manifest.Digest.ToString());
    }

    /// <summary>Downloads a blob once, however many pulls want it at the same time.</summary>
    private async Task FetchBlobAsync(IRegistrySession session, Digest digest, long size, LeaseSet.Lease lease, CancellationToken cancellationToken)
    {
        lease.Add(digest.ToString());
        if (content.Exists(digest))
        {
            return;
        }
        await blobFetches.RunAsync(
            digest.ToString(),
            async token =>
            {
                if (!content.Exists(digest))
                {
                    // A download that broke off starts again from the first byte: the content
                    // store publishes nothing that is not whole and verified.
                    await retry.RunAsync(
                        async attemptToken =>
                        {
                            var stream = await session.OpenBlobAsync(digest, attemptToken).ConfigureAwait(false);
                            await using (stream.ConfigureAwait(false))
                            {
                                return await content.IngestAsync(stream, digest, size, attemptToken).ConfigureAwait(false);
                            }
                        },
                        $"fetching blob {digest}",
                        token).ConfigureAwait(false);
                    PullMetrics.RecordStored(size);
                }
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Unpacks a layer once per chain ID; a layer another image already has is reused.</summary>
    private async Task UnpackLayerAsync(
        Digest layerDigest, Digest diffId, Digest chainId, ImageReference reference, LeaseSet.Lease lease, CancellationToken cancellationToken)
    {
        lease.Add(chainId.ToString());
        if (snapshots.Exists(chainId))
        {
            Log.LayerReused(logger, chainId.ToString());
            return;
        }
        var description = $"layer {layerDigest} of {reference}";
        await unpacks.RunAsync(
            chainId.ToString(),
            async token =>
            {
                if (snapshots.Exists(chainId))
                {
                    return true;
                }
                try
                {
                    await snapshots.CreateAsync(chainId, content.PathOf(layerDigest), diffId, description, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw StoreFailure.Classify(e, $"unpacking {description}");
                }
                Log.LayerUnpacked(logger, description, chainId.ToString());
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    internal static (OciDescriptor Config, Digest ConfigDigest, IReadOnlyList<(Digest Digest, long Size)> Layers) ReadManifest(
        OciManifest manifest, ImageReference reference)
    {
        if (manifest.Config is not { } config)
        {
            throw new FailedPreconditionException($"manifest of {reference} has no config");
        }
        if (config.MediaType is not { } configType || !MediaTypes.IsImageConfig(configType))
        {
            throw new FailedPreconditionException(
                $"{reference} is not a container image (config media type \"{config.MediaType}\")");
        }
        var layers = new List<(Digest, long)>();
        foreach (var layer in manifest.Layers ?? [])
        {
            // A JSON null in "layers" deserializes as a null entry.
            if (layer is null)
            {
                throw new FailedPreconditionException($"manifest of {reference} has a null layer");
            }
            if (layer.MediaType is not { } layerType || !MediaTypes.IsLayer(layerType))
            {
                throw new FailedPreconditionException(
                    $"{reference} has a layer of unsupported media type \"{layer.MediaType}\" (encrypted or not a filesystem layer)");
            }
            layers.Add((DescriptorDigest(layer, $"layer of {reference}"), layer.Size));
        }
        return (config, DescriptorDigest(config, $"config of {reference}"), layers);
    }

    internal static IReadOnlyList<Digest> ReadDiffIds(OciImageConfig config, int layerCount, ImageReference reference)
    {
        var diffIds = config.RootFs?.DiffIds ?? [];
        if (diffIds.Count != layerCount)
        {
            throw new FailedPreconditionException(
                $"{reference}: the config lists {diffIds.Count} layer diff IDs but the manifest has {layerCount} layers");
        }
        return [.. diffIds.Select(d => Digest.TryParse(d, out var parsed)
            ? parsed
            : throw new FailedPreconditionException($"{reference}: invalid diff ID \"{d}\" in the image config"))];
    }

    internal static Digest DescriptorDigest(OciDescriptor descriptor, string what) =>
        Digest.TryParse(descriptor.Digest, out var digest)
            ? digest
            : throw new FailedPreconditionException($"{what} has an invalid digest \"{descriptor.Digest}\"");

    internal static T Deserialize<T>(byte[] json, JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo)
                ?? throw new FailedPreconditionException($"{what} is empty");
        }
        catch (JsonException e)
        {
            throw new FailedPreconditionException($"{what} is not valid: {e.Message}");
        }
    }
}
