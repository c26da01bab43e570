using Xunit;

namespace CriOci.TestSupport;

/// <summary>
/// xunit fixture: one real registry on 127.0.0.1 holding the busybox test images
/// (<see cref="TestImages"/>). Use it as a class or collection fixture; in tests/e2e the
/// "Registry" collection (Fixtures/RegistryCollection.cs) shares one per test run.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private RegistryServer? _registry;
    private BusyboxImages? _images;

    public RegistryServer Registry => _registry ?? throw NotStarted();

    /// <summary>"127.0.0.1:PORT".</summary>
    public string Host => Registry.Host;

    /// <summary>The pushed images (references, digests, manifest media types).</summary>
    public BusyboxImages Images => _images ?? throw NotStarted();

    /// <summary>busybox:latest, OCI manifest, one gzip layer.</summary>
    public PushedImage BusyboxLatest => Images.Latest;

    /// <summary>busybox:v2s2, Docker schema 2 manifest, same layer as latest.</summary>
    public PushedImage BusyboxV2s2 => Images.V2s2;

    /// <summary>busybox:layered, OCI manifest, two gzip layers; the second adds /layer2.txt and whites out /bin/wc.</summary>
    public PushedImage BusyboxLayered => Images.Layered;

    /// <summary>How long building (or loading from cache) and pushing the images took in <see cref="InitializeAsync"/>.</summary>
    public TimeSpan ImagePreparationTime { get; private set; }

    public async Task InitializeAsync()
    {
        // Build first: a missing umoci or busybox then fails before any process is started.
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await TestImages.EnsureLayoutAsync().ConfigureAwait(false);
        var registry = await RegistryServer.StartAsync().ConfigureAwait(false);
        try
        {
            _images = await TestImages.PushBusyboxImagesAsync(registry.Host).ConfigureAwait(false);
        }
        catch
        {
            await registry.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _registry = registry;
        ImagePreparationTime = stopwatch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static InvalidOperationException NotStarted() =>
        new("RegistryFixture is not initialized; xunit calls InitializeAsync before the tests that use it.");
}
