using System.Globalization;
using System.Text;

namespace CriOci.Bench.Cri;

/// <summary>The CRI benchmark's results: one table with every peer and CriOci's ratio to each.</summary>
public sealed record CriReport(
    CriBenchmarkOptions Options,
    IReadOnlyList<string> Peers,
    IReadOnlyDictionary<(CriMeasure Measure, string Peer), Summary> Results,
    IReadOnlyDictionary<string, string> Errors,
    IReadOnlyList<PeerCleanup> Cleanups,
    IReadOnlyList<string> Notes,
    string LoadBefore,
    string LoadAfter,
    TimeSpan Elapsed)
{
    public const string CriOci = "CriOci";

    public Summary? Get(CriMeasure measure, string peer) => Results.GetValueOrDefault((measure, peer));

    public string ToTable()
    {
        var text = new StringBuilder();
        var others = Peers.Where(p => p != CriOci).ToList();
        text.AppendLine(Invariant($"CRI benchmark: {Options.Samples} samples after {Options.WarmUp} warm-up runs per latency, {Options.Pods} concurrent pods x {Options.PodRounds} rounds, {Options.PullSamples} cold pulls, peers interleaved"));
        text.AppendLine(Invariant($"load average before {LoadBefore}, after {LoadAfter}; took {Elapsed.TotalSeconds:0} s"));
        text.Append($"{"measure",-38} {"unit",-5}");
        foreach (var peer in Peers)
        {
            text.Append($" | {peer + " median/p90/p99",-31}");
        }
        foreach (var peer in others)
        {
            text.Append($" | {"CriOci/" + peer,-22}");
        }
        text.AppendLine(" | target (vs containerd-crun)");
        foreach (var measure in CriMeasure.All)
        {
            text.Append($"{measure.Name,-38} {measure.Unit,-5}");
            foreach (var peer in Peers)
            {
                text.Append($" | {Cell(Get(measure, peer)),-31}");
            }
            foreach (var peer in others)
            {
                text.Append($" | {Ratio(measure, peer),-22}");
            }
            text.AppendLine($" | {Target(measure)}");
        }
        foreach (var (peer, error) in Errors)
        {
            text.AppendLine($"{peer}: not measured from here on: {error}");
        }
        foreach (var cleanup in Cleanups)
        {
            text.AppendLine($"{cleanup.Peer}: {cleanup.PodsCreated} pods created; left after the workloads: {cleanup.PodsLeft} pods, {cleanup.ContainersLeft} containers");
        }
        foreach (var note in Notes)
        {
            text.AppendLine("note: " + note);
        }
        return text.ToString();
    }

    public double? RatioOf(CriMeasure measure, string peer) => RatioOf(measure, measure, peer);

    /// <summary>CriOci's median of <paramref name="ours"/> over the peer's median of <paramref name="theirs"/>.</summary>
    public double? RatioOf(CriMeasure ours, CriMeasure theirs, string peer) =>
        Get(ours, CriOci) is { Count: > 0 } mine && Get(theirs, peer) is { Count: > 0 } other && other.Median != 0
            ? mine.Median / other.Median
            : null;

    private string Ratio(CriMeasure measure, string peer) =>
        RatioOf(measure, peer) is { } ratio ? Invariant($"{ratio:0.00}") : "-";

    private string Target(CriMeasure measure)
    {
        if (measure.Target is not { } target)
        {
            return "";
        }
        // Issue 10 sets CriOci's whole per-pod overhead against containerd's shim alone.
        var theirs = measure == CriMeasure.PerPodRss ? CriMeasure.HelperRssPerPod : measure;
        var against = theirs == measure ? "" : " of shim RSS per pod";
        if (RatioOf(measure, theirs, CriBenchmark.ContainerdCrun) is not { } ratio)
        {
            return Invariant($"<= {target:0.00} (crun not measured)");
        }
        return Invariant($"<= {target:0.00}{against}: {ratio:0.00}, {(ratio <= target ? "met" : "MISSED")}");
    }

    private static string Cell(Summary? summary) => summary is not { Count: > 0 } s
        ? "-"
        : s.Count == 1 ? Invariant($"{s.Median:0.0}") : Invariant($"{s.Median:0.0} / {s.P90:0.0} / {s.P99:0.0}");

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
