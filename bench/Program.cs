using System.Globalization;
using CriOci.Bench;
using CriOci.Bench.Cri;

// crioci-bench runtime [--samples N] [--runtime PATH]
//   create+start+wait+delete of a busybox `true` bundle with crioci-runtime, crun and runc.
// crioci-bench cri [--short] [--samples N] [--warm-up N] [--pods N] [--rounds N]
//                  [--peers containerd-runc,containerd-crun] [--daemon PATH] [--no-cgroup-prepare]
//   the CRI workloads against crioci and containerd 1.6 with runc and with crun.
const string Usage = """
    usage: crioci-bench runtime [--samples N] [--runtime PATH-TO-crioci-runtime]
           crioci-bench cri [--short] [--samples N] [--warm-up N] [--pods N] [--rounds N]
                            [--peers containerd-runc,containerd-crun] [--daemon PATH-TO-crioci] [--no-cgroup-prepare]
    """;
if (args.Length == 0 || args[0] is not ("runtime" or "cri"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}
var options = new Dictionary<string, string?>();
for (var i = 1; i < args.Length; i++)
{
    if (args[i] is "--short" or "--no-cgroup-prepare")
    {
        options[args[i]] = null;
    }
    else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
    {
        options[args[i]] = args[++i];
    }
    else
    {
        Console.Error.WriteLine($"unknown option {args[i]}\n{Usage}");
        return 2;
    }
}
int? Number(string name) => options.TryGetValue(name, out var value) ? int.Parse(value!, CultureInfo.InvariantCulture) : null;

if (args[0] == "runtime")
{
    var runtime = options.GetValueOrDefault("--runtime") ?? RuntimeBenchmark.DefaultCriociRuntime();
    var report = await RuntimeBenchmark.RunAsync(runtime, Number("--samples") ?? 30, CancellationToken.None);
    Console.Write(report.ToTable());
    return report.Results.Any(r => r.Runtime == "crioci-runtime" && r.Error is null) ? 0 : 1;
}

var daemon = options.GetValueOrDefault("--daemon") ?? RuntimeBenchmark.DefaultCriociDaemon();
var defaults = options.ContainsKey("--short") ? CriBenchmarkOptions.Short(daemon) : new CriBenchmarkOptions(daemon);
var criOptions = defaults with
{
    Samples = Number("--samples") ?? defaults.Samples,
    WarmUp = Number("--warm-up") ?? defaults.WarmUp,
    Pods = Number("--pods") ?? defaults.Pods,
    PodRounds = Number("--rounds") ?? defaults.PodRounds,
    Peers = options.GetValueOrDefault("--peers")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? defaults.Peers,
    PrepareCrunCgroups = !options.ContainsKey("--no-cgroup-prepare"),
};
var unknown = (criOptions.Peers ?? []).Except(CriBenchmark.PeerNames).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown peer {string.Join(", ", unknown)}: choose from {string.Join(", ", CriBenchmark.PeerNames)}");
    return 2;
}
var cri = await CriBenchmark.RunAsync(criOptions, CancellationToken.None);
Console.Write(cri.ToTable());
return cri.Errors.ContainsKey(CriReport.CriOci) ? 1 : 0;
