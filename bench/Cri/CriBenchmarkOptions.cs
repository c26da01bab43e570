namespace CriOci.Bench.Cri;

/// <param name="Daemon">The crioci executable (artifacts/bin/crioci).</param>
/// <param name="Samples">Timed samples of each latency per peer.</param>
/// <param name="WarmUp">Untimed runs of each latency workload per peer before the samples.</param>
/// <param name="Pods">Pods launched at once in the concurrency and memory workload.</param>
/// <param name="PodRounds">Timed rounds of the concurrency workload (memory is read in the last).</param>
/// <param name="PullSamples">Cold pulls of the multi-layer image per peer, each of a fresh image.</param>
/// <param name="Peers">Which of <see cref="CriBenchmark.PeerNames"/> to run beside CriOci.</param>
/// <param name="PrepareCrunCgroups">
/// On a hybrid-cgroup host, move the controllers the cgroup2 hierarchy owns to v1 hierarchies
/// so crun accepts the host (it refuses hybrid mode otherwise), and move them back afterwards.
/// </param>
public sealed record CriBenchmarkOptions(
    string Daemon,
    int Samples = 60,
    int WarmUp = 3,
    int Pods = 30,
    int PodRounds = 3,
    IReadOnlyList<string>? Peers = null,
    int PullSamples = 3,
    bool PrepareCrunCgroups = true)
{
    /// <summary>A few samples and a few pods: proves every workload runs, in about a minute.</summary>
    public static CriBenchmarkOptions Short(string daemon) => new(daemon, Samples: 3, WarmUp: 1, Pods: 5, PodRounds: 1, PullSamples: 1);
}
