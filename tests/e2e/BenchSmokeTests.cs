using CriOci.Bench;
using CriOci.Bench.Cri;
using CriOci.E2E.Fixtures;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// The benchmark's short mode, so bench/ never rots. Timings are printed, never asserted:
/// CI machines are shared and noisy; what is checked is that every available runtime was
/// measured, every measure produced a number and every pod the benchmark created was removed.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class BenchSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RuntimeBenchmark_ShortMode_MeasuresCriociAndRunc()
    {
        var report = await RuntimeBenchmark.RunAsync(RepositoryPaths.Runtime, samples: 3, CancellationToken.None);
        output.WriteLine(report.ToTable());

        var ours = Assert.Single(report.Results, r => r.Runtime == "crioci-runtime");
        Assert.True(ours.Error is null, ours.Error);
        Assert.Equal(3, ours.Statistics!.Count);
        var runc = Assert.Single(report.Results, r => r.Runtime == "runc");
        Assert.True(runc.Error is null, runc.Error);
    }

    /// <summary>
    /// CriOci and containerd+runc must be measured on every row. containerd+crun is run too but
    /// not required: the test leaves the host's cgroups alone (crun refuses hybrid cgroups, and
    /// other tests run beside this one), so on a hybrid host its error is printed instead.
    /// </summary>
    [Fact]
    public async Task CriBenchmark_ShortMode_MeasuresEveryRowAndRemovesEveryPod()
    {
        var options = CriBenchmarkOptions.Short(RepositoryPaths.Daemon) with { PrepareCrunCgroups = false };

        var report = await CriBenchmark.RunAsync(options, CancellationToken.None);
        output.WriteLine(report.ToTable());

        foreach (var peer in new[] { CriReport.CriOci, CriBenchmark.ContainerdRunc })
        {
            Assert.False(report.Errors.ContainsKey(peer), $"{peer}: {report.Errors.GetValueOrDefault(peer)}");
            foreach (var measure in CriMeasure.All)
            {
                var summary = report.Get(measure, peer);
                Assert.True(summary is { Count: > 0 } && double.IsFinite(summary.Median), $"{peer}: no number for {measure.Name}");
            }
        }
        Assert.Equal(options.Samples, report.Get(CriMeasure.ExecSync, CriReport.CriOci)!.Count);
        Assert.Equal(options.PullSamples, report.Get(CriMeasure.PullImage, CriReport.CriOci)!.Count);
        Assert.NotNull(report.RatioOf(CriMeasure.PullImage, CriBenchmark.ContainerdRunc));
        Assert.Contains(CriBenchmark.ContainerdCrun, report.Peers);
        foreach (var cleanup in report.Cleanups)
        {
            Assert.True(cleanup.PodsCreated > 0 || report.Errors.ContainsKey(cleanup.Peer), $"{cleanup.Peer} created no pod");
            Assert.Equal(0, cleanup.PodsLeft);
            Assert.Equal(0, cleanup.ContainersLeft);
        }
        Assert.Contains(report.Cleanups, c => c.Peer == CriReport.CriOci);
        Assert.Contains(report.Cleanups, c => c.Peer == CriBenchmark.ContainerdRunc);
    }
}
