using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.Bench.Cri;

/// <summary>One run of the CRI workloads: the peers, their samples and what went wrong.</summary>
public sealed class CriRun(CriBenchmarkOptions options, string logDirectory) : IAsyncDisposable
{
    private readonly List<CriWorkloads> _peers = [];
    private readonly List<string> _order = [];
    private readonly Dictionary<(CriMeasure, string), List<double>> _samples = [];
    private readonly Dictionary<string, string> _errors = [];
    private readonly List<string> _notes = [];
    private readonly List<PeerCleanup> _cleanups = [];
    private readonly Dictionary<string, MemoryUse> _idle = [];
    private readonly Dictionary<string, (int Count, MemoryUse Memory)> _idleHelpers = [];

    public void Add(CriPeer peer, string image)
    {
        _peers.Add(new CriWorkloads(peer, image, logDirectory));
        _order.Add(peer.Name);
    }

    public void Fail(string peer, string error)
    {
        if (!_order.Contains(peer))
        {
            _order.Add(peer);
        }
        _errors.TryAdd(peer, error);
    }

    public void Note(string note)
    {
        if (note.Length > 0)
        {
            _notes.Add(note);
        }
    }

    private IEnumerable<CriWorkloads> Active => _peers.Where(w => !_errors.ContainsKey(w.Peer.Name)).ToList();

    public async Task MeasureAsync(CancellationToken cancellationToken)
    {
        foreach (var peer in Active)
        {
            await GuardAsync(peer, async () =>
            {
                await peer.Peer.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = peer.Image } },
                    deadline: DateTime.UtcNow.AddMinutes(5), cancellationToken: cancellationToken);
                // A daemon's idle footprint includes what it keeps running with no pod (CriOci's
                // standby monitor): charged here, it is not charged to the pods below.
                var idleHelpers = peer.Peer.HelperPids();
                var idle = ProcessTable.Memory([peer.Peer.DaemonPid, .. idleHelpers]);
                _idle[peer.Peer.Name] = idle;
                _idleHelpers[peer.Peer.Name] = (idleHelpers.Count, ProcessTable.Memory(idleHelpers));
                Record(CriMeasure.IdleRss, peer, idle.RssKiB / 1024.0);
                Record(CriMeasure.IdlePss, peer, idle.PssKiB / 1024.0);
            });
        }
        if (Active.Count(p => p.Peer is ContainerdPeer) > 1)
        {
            Note("the containerd peers run at the same time and share /usr/bin/containerd's pages, which lowers each one's idle PSS (RSS is unaffected)");
        }
        foreach (var hostNetwork in new[] { true, false })
        {
            await EachSampleAsync(async (peer, recorded) =>
            {
                var (run, stop, remove) = await peer.PodCycleAsync(hostNetwork, cancellationToken);
                if (recorded)
                {
                    Record(hostNetwork ? CriMeasure.RunPodHost : CriMeasure.RunPodBridge, peer, run.TotalMilliseconds);
                    Record(hostNetwork ? CriMeasure.StopPodHost : CriMeasure.StopPodBridge, peer, stop.TotalMilliseconds);
                    Record(hostNetwork ? CriMeasure.RemovePodHost : CriMeasure.RemovePodBridge, peer, remove.TotalMilliseconds);
                }
            });
        }
        await MeasureContainersAsync(cancellationToken);
        await MeasureConcurrentPodsAsync(cancellationToken);
    }

    /// <summary>
    /// Issue 5: cold PullImage of a multi-layer image from the local registry, peers taking
    /// turns on each fresh image; the image is removed again so the next sample starts empty.
    /// </summary>
    public async Task MeasurePullsAsync(IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        foreach (var reference in references)
        {
            foreach (var peer in Active)
            {
                await GuardAsync(peer, async () =>
                {
                    var image = new ImageSpec { Image = reference };
                    var stopwatch = System.Diagnostics.Stopwatch.StartNew();
                    await peer.Peer.Images.PullImageAsync(new PullImageRequest { Image = image }, deadline: DateTime.UtcNow.AddMinutes(5), cancellationToken: cancellationToken);
                    Record(CriMeasure.PullImage, peer, stopwatch.Elapsed.TotalMilliseconds);
                    await peer.Peer.Images.RemoveImageAsync(new RemoveImageRequest { Image = image }, deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: cancellationToken);
                });
            }
        }
    }

    /// <summary>Create + start of a sleeper and ExecSync `true`, in one running pod per peer.</summary>
    private async Task MeasureContainersAsync(CancellationToken cancellationToken)
    {
        var pods = new Dictionary<CriWorkloads, (string PodId, PodSandboxConfig Config, string Target)>();
        foreach (var peer in Active)
        {
            await GuardAsync(peer, async () =>
            {
                var (podId, config) = await peer.RunPodWithConfigAsync(cancellationToken);
                pods[peer] = (podId, config, "");
                var (target, _, _) = await peer.StartSleeperAsync(podId, config, cancellationToken);
                pods[peer] = (podId, config, target);
            });
        }
        await EachSampleAsync(async (peer, recorded) =>
        {
            var (podId, config, _) = pods[peer];
            var (id, create, start) = await peer.StartSleeperAsync(podId, config, cancellationToken);
            await peer.RemoveContainerAsync(id, cancellationToken);
            if (recorded)
            {
                Record(CriMeasure.CreateContainer, peer, create.TotalMilliseconds);
                Record(CriMeasure.StartContainer, peer, start.TotalMilliseconds);
                Record(CriMeasure.CreateAndStart, peer, (create + start).TotalMilliseconds);
            }
        });
        await EachSampleAsync(async (peer, recorded) =>
        {
            var elapsed = await peer.ExecTrueAsync(pods[peer].Target, cancellationToken);
            if (recorded)
            {
                Record(CriMeasure.ExecSync, peer, elapsed.TotalMilliseconds);
            }
        });
        foreach (var (peer, (podId, _, _)) in pods)
        {
            await GuardAsync(peer, () => peer.RemovePodAsync(podId, cancellationToken));
        }
    }

    /// <summary>
    /// Rounds of N pods launched at once; in the last round, with all N running, the memory of
    /// the daemon and its helper processes.
    /// </summary>
    private async Task MeasureConcurrentPodsAsync(CancellationToken cancellationToken)
    {
        for (var round = 0; round < options.PodRounds; round++)
        {
            var last = round == options.PodRounds - 1;
            foreach (var peer in Active)
            {
                await GuardAsync(peer, async () =>
                {
                    var (wall, podIds) = await peer.LaunchPodsAsync(options.Pods, cancellationToken);
                    try
                    {
                        Record(CriMeasure.ConcurrentPods, peer, wall.TotalMilliseconds);
                        if (last)
                        {
                            RecordLoadedMemory(peer);
                        }
                    }
                    finally
                    {
                        await peer.RemovePodsAsync(podIds, cancellationToken);
                    }
                });
            }
        }
    }

    private void RecordLoadedMemory(CriWorkloads peer)
    {
        var helpers = peer.Peer.HelperPids();
        var helperMemory = ProcessTable.Memory(helpers);
        var loaded = ProcessTable.Memory([peer.Peer.DaemonPid, .. helpers]);
        var idle = _idle[peer.Peer.Name];
        double pods = options.Pods;
        Record(CriMeasure.LoadedRss, peer, loaded.RssKiB / 1024.0);
        Record(CriMeasure.LoadedPss, peer, loaded.PssKiB / 1024.0);
        Record(CriMeasure.PerPodRss, peer, (loaded.RssKiB - idle.RssKiB) / 1024.0 / pods);
        Record(CriMeasure.PerPodPss, peer, (loaded.PssKiB - idle.PssKiB) / 1024.0 / pods);
        var idleHelpers = _idleHelpers[peer.Peer.Name];
        Record(CriMeasure.HelperRssPerPod, peer, (helperMemory.RssKiB - idleHelpers.Memory.RssKiB) / 1024.0 / pods);
        Record(CriMeasure.HelpersPerPod, peer, (helpers.Count - idleHelpers.Count) / pods);
    }

    /// <summary>Warm-up runs then samples, peers taking turns.</summary>
    private async Task EachSampleAsync(Func<CriWorkloads, bool, Task> sample)
    {
        for (var i = 0; i < options.WarmUp + options.Samples; i++)
        {
            foreach (var peer in Active)
            {
                await GuardAsync(peer, () => sample(peer, i >= options.WarmUp));
            }
        }
    }

    private async Task GuardAsync(CriWorkloads peer, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception exception) when (exception is RpcException or InvalidOperationException or IOException)
        {
            Fail(peer.Peer.Name, exception is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : exception.Message);
        }
    }

    private void Record(CriMeasure measure, CriWorkloads peer, double value)
    {
        if (!_samples.TryGetValue((measure, peer.Peer.Name), out var values))
        {
            _samples[(measure, peer.Peer.Name)] = values = [];
        }
        values.Add(value);
    }

    public CriReport Report(string loadBefore, string loadAfter, TimeSpan elapsed) => new(
        options,
        _order,
        _samples.ToDictionary(entry => entry.Key, entry => Summary.Of(entry.Value)),
        _errors,
        _cleanups,
        _notes,
        loadBefore,
        loadAfter,
        elapsed);

    /// <summary>
    /// Counts what each peer still lists after the workloads (which remove everything they
    /// create), then removes any such leftovers and stops the peer.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            try
            {
                var (pods, containers) = await peer.LeftOverAsync(CancellationToken.None);
                _cleanups.Add(new PeerCleanup(peer.Peer.Name, peer.PodsCreated, pods, containers));
                var listed = await peer.Peer.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: DateTime.UtcNow.AddMinutes(1));
                await peer.RemovePodsAsync(listed.Items.Select(p => p.Id), CancellationToken.None);
            }
            catch (RpcException exception)
            {
                _cleanups.Add(new PeerCleanup(peer.Peer.Name, peer.PodsCreated, -1, -1));
                Fail(peer.Peer.Name, $"clean-up: {exception.Status.Detail}");
            }
            await peer.Peer.DisposeAsync();
        }
    }
}
