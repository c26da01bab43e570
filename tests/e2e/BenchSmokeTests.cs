using CriOci.Bench;
using CriOci.E2E.Fixtures;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// The benchmark's short mode, so bench/ never rots. Timings are printed, never asserted:
/// CI machines are shared and noisy; only that every available runtime was measured is checked.
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
}
