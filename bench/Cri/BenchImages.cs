using CriOci.TestSupport;

namespace CriOci.Bench.Cri;

/// <summary>
/// A docker-registry on loopback holding the test busybox image (built with umoci from Debian's
/// busybox-static, as the tests build it) and a "pause" image for containerd's sandboxes: the
/// same layer with `sleep` as its command, since CriOci pins namespaces without a pause process
/// and Debian packages no pause image.
/// </summary>
public sealed class BenchImages : IAsyncDisposable
{
    private readonly RegistryServer _registry;

    private BenchImages(RegistryServer registry, string busybox, string pause)
    {
        _registry = registry;
        Busybox = busybox;
        Pause = pause;
    }

    /// <summary>"127.0.0.1:PORT".</summary>
    public string Registry => _registry.Host;

    public string Busybox { get; }

    public string Pause { get; }

    public static async Task<BenchImages> StartAsync(string work, CancellationToken cancellationToken)
    {
        var cached = await TestImages.EnsureLayoutAsync(cancellationToken: cancellationToken);
        var layout = Path.Combine(work, "layout");
        CopyDirectory(cached, layout);
        await CommandRunner.RunAsync(TestDependencies.RequireUmoci(),
        [
            "config", "--image", $"{layout}:{TestImages.LatestTag}", "--tag", "pause",
            "--clear", "config.cmd", "--config.cmd", "sleep", "--config.cmd", "2147483647",
            "--history.created_by", "crioci-bench: pause",
        ], TimeSpan.FromMinutes(2), cancellationToken: cancellationToken);
        var registry = await RegistryServer.StartAsync(Path.Combine(work, "logs"), cancellationToken);
        try
        {
            var busybox = await TestImages.PushAsync(layout, TestImages.LatestTag, registry.Host, TestImages.Repository, TestImages.LatestTag, ManifestFormat.Oci, cancellationToken);
            var pause = await TestImages.PushAsync(layout, "pause", registry.Host, "pause", "latest", ManifestFormat.Oci, cancellationToken);
            return new BenchImages(registry, busybox.Reference, pause.Reference);
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        }
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)));
        }
    }

    public ValueTask DisposeAsync() => _registry.DisposeAsync();
}
