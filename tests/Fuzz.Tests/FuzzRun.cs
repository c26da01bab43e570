using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// A seeded fuzz loop. The run seed comes from CRIOCI_FUZZ_SEED or is drawn at random, and is
/// printed first; every case gets its own seed drawn from it, so the same run seed replays the
/// same cases in the same order. A case that throws, or runs past <see cref="CaseTimeout"/>
/// (a hang), fails the test with both seeds. A run stops after <c>maxCases</c> cases or its time
/// budget, whichever comes first, so the whole project stays within a minute in CI.
/// </summary>
internal static class FuzzRun
{
    public const string SeedVariable = "CRIOCI_FUZZ_SEED";

    /// <summary>Far beyond what any one input takes; only a hang gets there.</summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(ITestOutputHelper output, string target, int maxCases, TimeSpan budget, Func<Random, Task> fuzzCase)
    {
        var runSeed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"{target}: run seed {runSeed} ({SeedVariable}={runSeed} replays this run)");
        var seeds = new Random(runSeed);
        var clock = Stopwatch.StartNew();
        var cases = 0;
        while (cases < maxCases && clock.Elapsed < budget)
        {
            var caseSeed = seeds.Next();
            var run = Task.Run(() => fuzzCase(new Random(caseSeed)));
            try
            {
                await run.WaitAsync(CaseTimeout);
            }
            catch (TimeoutException)
            {
                throw new XunitException($"{target}: case {cases} (case seed {caseSeed}, run seed {runSeed}) did not finish within {CaseTimeout.TotalSeconds} s");
            }
            catch (Exception exception)
            {
                throw new XunitException($"{target}: case {cases} (case seed {caseSeed}, run seed {runSeed}) failed:\n{exception}");
            }
            cases++;
        }
        output.WriteLine($"{target}: {cases} cases in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(cases > 0, $"{target}: no case ran");
    }

    public static Task RunAsync(ITestOutputHelper output, string target, int maxCases, TimeSpan budget, Action<Random> fuzzCase) =>
        RunAsync(output, target, maxCases, budget, random =>
        {
            fuzzCase(random);
            return Task.CompletedTask;
        });
}
