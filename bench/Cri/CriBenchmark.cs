using System.Diagnostics;

namespace CriOci.Bench.Cri;

/// <summary>
/// The CRI workloads of issue 10 against CriOci and containerd 1.6 (with runc, and with crun),
/// all started by the benchmark on temporary sockets and roots and driven by the same CRI
/// client. Peers take turns sample by sample, so machine noise hits all of them alike. A peer
/// that fails is reported with its error and left out of the later workloads, never hidden.
/// </summary>
public static class CriBenchmark
{
    public const string ContainerdRunc = "containerd-runc";
    public const string ContainerdCrun = "containerd-crun";

    public static IReadOnlyList<string> PeerNames { get; } = [ContainerdRunc, ContainerdCrun];

    private static readonly Dictionary<string, string> OciRuntimes = new()
    {
        [ContainerdRunc] = "/usr/sbin/runc",
        [ContainerdCrun] = "/usr/bin/crun",
    };

    public static async Task<CriReport> RunAsync(CriBenchmarkOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage.Read();
        var work = Directory.CreateTempSubdirectory("crioci-bench-cri-").FullName;
        var run = new CriRun(options, Path.Combine(work, "logs"));
        UnifiedHierarchyRelease? release = null;
        BenchImages? images = null;
        try
        {
            images = await BenchImages.StartAsync(work, cancellationToken);
            run.Add(await CriociPeer.StartAsync(options.Daemon, work, cancellationToken), images.Busybox);
            var index = 0;
            foreach (var name in options.Peers ?? PeerNames)
            {
                index++;
                try
                {
                    if (name == ContainerdCrun && options.PrepareCrunCgroups)
                    {
                        release = await UnifiedHierarchyRelease.ReleaseAsync(cancellationToken);
                        run.Note(release.Description);
                    }
                    run.Add(await ContainerdPeer.StartAsync(name, OciRuntimes[name], work, images, index, cancellationToken), images.Busybox);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    run.Fail(name, $"start: {exception.Message}");
                }
            }
            await run.MeasureAsync(cancellationToken);
            await run.MeasurePullsAsync(await PullBenchImages.PushAsync(images.Registry, options.PullSamples, cancellationToken), cancellationToken);
        }
        finally
        {
            await run.DisposeAsync();
            if (images is not null)
            {
                await images.DisposeAsync();
            }
            if (release is not null)
            {
                run.Note(await release.RestoreAsync());
            }
            DeleteQuietly(work);
        }
        return run.Report(loadBefore, LoadAverage.Read(), clock.Elapsed);
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException exception)
        {
            Console.Error.WriteLine($"crioci-bench: {directory} left behind: {exception.Message}");
        }
    }
}
