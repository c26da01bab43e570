using System.Diagnostics;
using CriOci.Cri.V1;

namespace CriOci.Bench.Cri;

/// <summary>
/// One sample of each workload against one peer. Every pod a workload creates it also removes,
/// and <see cref="PodsCreated"/> counts them so the run can prove that none was left behind.
/// </summary>
public sealed class CriWorkloads(CriPeer peer, string image, string logDirectory)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);
    private int _pods;
    private int _names;

    public CriPeer Peer { get; } = peer;

    public string Image { get; } = image;

    public int PodsCreated => _pods;

    private static DateTime Deadline => DateTime.UtcNow + CallTimeout;

    /// <summary>RunPodSandbox, StopPodSandbox, RemovePodSandbox of an empty pod, each timed.</summary>
    public async Task<(TimeSpan Run, TimeSpan Stop, TimeSpan Remove)> PodCycleAsync(bool hostNetwork, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var id = await RunPodAsync(hostNetwork, cancellationToken);
        var run = clock.Elapsed;
        clock.Restart();
        await Peer.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }, deadline: Deadline, cancellationToken: cancellationToken);
        var stop = clock.Elapsed;
        clock.Restart();
        await Peer.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }, deadline: Deadline, cancellationToken: cancellationToken);
        return (run, stop, clock.Elapsed);
    }

    /// <summary>A pod on the peer's bridge network, for the container workloads.</summary>
    public async Task<(string Id, PodSandboxConfig Config)> RunPodWithConfigAsync(CancellationToken cancellationToken)
    {
        var config = BenchRequests.Pod(NextName("pod"), logDirectory, hostNetwork: false);
        var response = await Peer.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, deadline: Deadline, cancellationToken: cancellationToken);
        Interlocked.Increment(ref _pods);
        return (response.PodSandboxId, config);
    }

    /// <summary>CreateContainer and StartContainer of a busybox sleeper, timed apart; the container is left running.</summary>
    public async Task<(string Id, TimeSpan Create, TimeSpan Start)> StartSleeperAsync(string podId, PodSandboxConfig podConfig, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var created = await Peer.Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = podId,
            Config = BenchRequests.Sleeper(NextName("sleeper"), Image),
            SandboxConfig = podConfig,
        }, deadline: Deadline, cancellationToken: cancellationToken);
        var create = clock.Elapsed;
        clock.Restart();
        await Peer.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId }, deadline: Deadline, cancellationToken: cancellationToken);
        return (created.ContainerId, create, clock.Elapsed);
    }

    /// <summary>Kills (no grace period) and removes a container, untimed.</summary>
    public async Task RemoveContainerAsync(string id, CancellationToken cancellationToken)
    {
        await Peer.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 }, deadline: Deadline, cancellationToken: cancellationToken);
        await Peer.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }, deadline: Deadline, cancellationToken: cancellationToken);
    }

    /// <summary>ExecSync of `true`; a non-zero exit is a failure, not a sample.</summary>
    public async Task<TimeSpan> ExecTrueAsync(string containerId, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var response = await Peer.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { "true" }, Timeout = 60 }, deadline: Deadline, cancellationToken: cancellationToken);
        var elapsed = clock.Elapsed;
        if (response.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Peer.Name}: ExecSync true exited {response.ExitCode}: {response.Stderr.ToStringUtf8()}");
        }
        return elapsed;
    }

    /// <summary>
    /// <paramref name="count"/> pods with one sleeper each, all launched at once; returns the wall
    /// time until every StartContainer has returned, and the pod IDs (still running).
    /// </summary>
    public async Task<(TimeSpan Wall, IReadOnlyList<string> PodIds)> LaunchPodsAsync(int count, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var launches = Enumerable.Range(0, count).Select(async _ =>
        {
            var (podId, config) = await RunPodWithConfigAsync(cancellationToken);
            await StartSleeperAsync(podId, config, cancellationToken);
            return podId;
        }).ToList();
        try
        {
            var ids = await Task.WhenAll(launches);
            return (clock.Elapsed, ids);
        }
        catch
        {
            // Remove what did start, so a failed round leaves nothing behind.
            var started = launches.Where(l => l.IsCompletedSuccessfully).Select(l => l.Result).ToList();
            await RemovePodsAsync(started, cancellationToken);
            throw;
        }
    }

    /// <summary>Stops and removes pods (and their containers) concurrently, untimed.</summary>
    public Task RemovePodsAsync(IEnumerable<string> podIds, CancellationToken cancellationToken) =>
        Task.WhenAll(podIds.Select(id => RemovePodAsync(id, cancellationToken)));

    public async Task RemovePodAsync(string podId, CancellationToken cancellationToken)
    {
        await Peer.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, deadline: Deadline, cancellationToken: cancellationToken);
        await Peer.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, deadline: Deadline, cancellationToken: cancellationToken);
    }

    /// <summary>Pods and containers the peer still lists.</summary>
    public async Task<(int Pods, int Containers)> LeftOverAsync(CancellationToken cancellationToken)
    {
        var pods = await Peer.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: Deadline, cancellationToken: cancellationToken);
        var containers = await Peer.Runtime.ListContainersAsync(new ListContainersRequest(), deadline: Deadline, cancellationToken: cancellationToken);
        return (pods.Items.Count, containers.Containers.Count);
    }

    private async Task<string> RunPodAsync(bool hostNetwork, CancellationToken cancellationToken)
    {
        var config = BenchRequests.Pod(NextName(hostNetwork ? "host" : "bridge"), logDirectory, hostNetwork);
        var response = await Peer.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, deadline: Deadline, cancellationToken: cancellationToken);
        Interlocked.Increment(ref _pods);
        return response.PodSandboxId;
    }

    private string NextName(string kind) => $"{kind}-{Interlocked.Increment(ref _names)}";
}
