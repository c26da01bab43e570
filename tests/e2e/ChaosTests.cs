using System.Collections.Concurrent;
using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// Issue 8's chaos test: concurrent kubelet-like clients create, start, exec into and remove pods
/// while the daemon is killed with SIGKILL at five random moments and restarted on the same root
/// and state. Nothing the clients were told exists may be lost, no running container may be
/// restarted, a container that ended while no daemon ran reports its real exit, and once
/// everything is removed the node holds nothing of this daemon's.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ChaosTests(RegistryFixture registry, ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>
    /// Issue 8 asks for 50. On the 2-core development machine, shared with other test runs, 50
    /// pods take 10 to 27 s, 150 take 45 s and 200 take 33 s, far inside the 4 minutes allowed; CI keeps the
    /// issue's number and <see cref="PodCountVariable"/> runs more.
    /// </summary>
    private const int DefaultPodCount = 50;

    /// <summary>Set to run more (or fewer) pods than CI does.</summary>
    private const string PodCountVariable = "CRIOCI_CHAOS_PODS";

    private static readonly int PodCount = int.TryParse(Environment.GetEnvironmentVariable(PodCountVariable), out var pods) && pods >= 10 ? pods : DefaultPodCount;
    private const int ClientCount = 5;
    private const int KillCount = 5;

    /// <summary>Set to replay a run's kill moments (the seed is printed by every run).</summary>
    private const string SeedVariable = "CRIOCI_CHAOS_SEED";

    private IsolatedDaemon _node = null!;

    public async Task InitializeAsync() => _node = await IsolatedDaemon.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private enum Workload
    {
        /// <summary>sleep: must run through every kill with the same process.</summary>
        Sleeps,
        /// <summary>sh -c 'sleep 1; exit 7': ends at some moment, maybe while no daemon runs.</summary>
        ExitsWith7,
    }

    /// <summary>What the clients were told about one pod.</summary>
    private sealed record PodOutcome(int Index, Workload Workload, bool RemovedDuringRun, string PodId, string ContainerId, int Pid, ulong PidStartTime);

    /// <summary>A container started just before a kill, which exits while the daemon is down.</summary>
    private sealed record Sentinel(string ContainerId, DateTime KilledAt, DateTime RestartedAt);

    [Fact]
    public async Task Daemon_KilledAtRandomMomentsUnderConcurrentClients_LosesNothingAndLeavesNothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        output.WriteLine($"seed {seed} (replay the kill moments with {SeedVariable}={seed})");
        var random = new Random(seed);
        var image = registry.BusyboxLatest.Reference;
        await _node.Daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var before = _node.Footprint();
        output.WriteLine($"before: {before.Counts}");

        var retries = new ConcurrentQueue<string>();
        using var monkeyClient = new KubeletLikeClient(_node.SocketPath, retries);
        var sentinelPodConfig = _node.Pod("sentinel");
        var sentinelPod = await monkeyClient.EnsurePodAsync(sentinelPodConfig);

        // One step per call a client makes for a pod; the kills are spread over them.
        var plan = Enumerable.Range(0, PodCount)
            .Select(i => (Index: i, Workload: i % 4 == 3 ? Workload.ExitsWith7 : Workload.Sleeps, RemovedDuringRun: i % 2 == 1))
            .ToList();
        var totalSteps = plan.Sum(p => 3 + (p.Workload == Workload.Sleeps ? 2 : 0) + (p.RemovedDuringRun ? 1 : 0));
        var progress = new StepCounter();
        var killAt = Enumerable.Range(0, KillCount).Select(_ => random.Next(totalSteps * 5 / 100, totalSteps * 85 / 100)).Order().ToList();
        var jitters = Enumerable.Range(0, KillCount).Select(_ => TimeSpan.FromMilliseconds(random.Next(0, 300))).ToList();
        output.WriteLine($"{PodCount} pods, {ClientCount} clients, {totalSteps} steps; kills after steps {string.Join(", ", killAt)}");

        var queue = new ConcurrentQueue<(int Index, Workload Workload, bool RemovedDuringRun)>(plan);
        var outcomes = new ConcurrentBag<PodOutcome>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var workers = Enumerable.Range(0, ClientCount).Select(_ => Task.Run(async () =>
        {
            using var client = new KubeletLikeClient(_node.SocketPath, retries);
            while (queue.TryDequeue(out var pod))
            {
                outcomes.Add(await DrivePodAsync(client, image, pod.Index, pod.Workload, pod.RemovedDuringRun, progress));
            }
        })).ToList();
        var sentinels = await KillRepeatedlyAsync(monkeyClient, image, sentinelPod, sentinelPodConfig, killAt, jitters, progress, Task.WhenAll(workers));
        await Task.WhenAll(workers);
        output.WriteLine($"clients done after {clock.Elapsed.TotalSeconds:0.0} s; {retries.Count} calls retried because the daemon was down:");
        foreach (var (operation, count) in retries.GroupBy(r => r[..r.IndexOf(' ')]).Select(g => (g.Key, g.Count())))
        {
            output.WriteLine($"  {operation}: {count}");
        }

        await AssertNothingLostAsync(monkeyClient, [.. outcomes], sentinelPod, sentinels);

        foreach (var pod in await monkeyClient.ListPodsAsync())
        {
            await monkeyClient.RemovePodAsync(pod.Id);
        }
        var after = await NodeFootprint.SettleAsync(_node.Footprint, before, TimeSpan.FromSeconds(30));
        output.WriteLine($"after removing everything: {after.Counts}");
        Assert.True(after.DifferencesFrom(before).Length == 0, "left behind:\n" + after.DifferencesFrom(before));
        output.WriteLine($"whole run {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>One client's work on one pod; every call survives the daemon going away under it.</summary>
    private async Task<PodOutcome> DrivePodAsync(KubeletLikeClient client, string image, int index, Workload workload, bool removeDuringRun, StepCounter progress)
    {
        // Fixed metadata (uid included), as kubelet's: a retried create must find the same pod by it.
        var podConfig = _node.Pod($"chaos-{index}");
        var podId = await client.EnsurePodAsync(podConfig);
        progress.Step();
        var command = workload == Workload.Sleeps ? new[] { "sleep", "3600" } : ["sh", "-c", "sleep 1; exit 7"];
        var containerId = await client.EnsureContainerAsync(podId, CriRequests.Container("work", image, command), podConfig);
        progress.Step();
        await client.EnsureStartedAsync(containerId);
        progress.Step();
        var (pid, startTime) = (0, 0ul);
        if (workload == Workload.Sleeps)
        {
            pid = PidOf(await client.StatusAsync(containerId));
            Assert.True(pid > 0, $"running container {containerId} has no pid");
            startTime = HostInspection.StartTimeOf(pid) ?? throw new InvalidOperationException($"pid {pid} of running container {containerId} is not alive");
            progress.Step();
            var exec = await client.ExecAsync(containerId, "true");
            Assert.True(exec.ExitCode == 0, $"exec true in pod {index} exited {exec.ExitCode}: {exec.Stderr.ToStringUtf8()}");
            progress.Step();
        }
        if (removeDuringRun)
        {
            await client.RemovePodAsync(podId);
            progress.Step();
        }
        return new PodOutcome(index, workload, removeDuringRun, podId, containerId, pid, startTime);
    }

    private static int PidOf(ContainerStatusResponse status)
    {
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("pid").GetInt32();
    }

    private static string BundleOf(ContainerStatusResponse status)
    {
        using var info = JsonDocument.Parse(status.Info["info"]);
        return info.RootElement.GetProperty("bundle").GetString() ?? throw new InvalidOperationException("no bundle in verbose info");
    }

    /// <summary>
    /// The chaos monkey: at each chosen step count (plus a little jitter, so the kill lands at a
    /// different point of whatever calls are in flight) it starts a sentinel container that
    /// waits for a file, kills the daemon with SIGKILL, creates the file in the sentinel's root
    /// filesystem from the host, waits until the sentinel's process has exited 7 (so it surely
    /// ended with no daemon running) and starts a new daemon.
    /// </summary>
    private async Task<IReadOnlyList<Sentinel>> KillRepeatedlyAsync(KubeletLikeClient client, string image, string sentinelPod, PodSandboxConfig sentinelPodConfig,
        IReadOnlyList<int> killAt, IReadOnlyList<TimeSpan> jitters, StepCounter progress, Task clientsDone)
    {
        var sentinels = new List<Sentinel>();
        for (var k = 0; k < killAt.Count; k++)
        {
            while (progress.Steps < killAt[k])
            {
                if (clientsDone.IsCompleted)
                {
                    await clientsDone; // a client's failure is the story, not the missing kill
                    Assert.Fail($"the clients finished before kill {k + 1} (step {killAt[k]}, reached {progress.Steps})");
                }
                await Task.Delay(10);
            }
            var sentinel = await client.EnsureContainerAsync(sentinelPod,
                CriRequests.Container($"sentinel-{k}", image, "sh", "-c", "while [ ! -e /tmp/exit-now ]; do sleep 0.05; done; exit 7"), sentinelPodConfig);
            await client.EnsureStartedAsync(sentinel);
            var sentinelStatus = await client.StatusAsync(sentinel);
            var sentinelPid = PidOf(sentinelStatus);
            Assert.True(sentinelPid > 0, $"sentinel {sentinel} is not running: {sentinelStatus.Status.State}");
            await Task.Delay(jitters[k]);

            var killedAt = DateTime.UtcNow;
            var stepsAtKill = progress.Steps;
            await _node.KillAsync();
            await File.WriteAllTextAsync(Path.Combine(BundleOf(sentinelStatus), "rootfs", "tmp", "exit-now"), "");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            // Until its monitor has reaped it, recorded its exit and ended: all with no daemon running.
            while (Directory.Exists($"/proc/{sentinelPid}") || HostInspection.ProcessesMentioning(sentinel).Count > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"sentinel {sentinel} (pid {sentinelPid}) did not exit within 20 s");
                await Task.Delay(20);
            }
            await _node.RestartAsync();
            var restartedAt = DateTime.UtcNow;
            output.WriteLine($"kill {k + 1} at step {stepsAtKill}: down {(restartedAt - killedAt).TotalSeconds:0.0} s");
            sentinels.Add(new Sentinel(sentinel, killedAt, restartedAt));
        }
        return sentinels;
    }

    private async Task AssertNothingLostAsync(KubeletLikeClient client, IReadOnlyList<PodOutcome> outcomes, string sentinelPod, IReadOnlyList<Sentinel> sentinels)
    {
        Assert.Equal(PodCount, outcomes.Count);
        var pods = (await client.ListPodsAsync()).ToDictionary(p => p.Id);
        var containers = await client.ListContainersAsync();
        var kept = outcomes.Where(o => !o.RemovedDuringRun).ToList();
        // Exactly what the clients were told: no pod lost, none duplicated by a retried create,
        // none the clients removed come back.
        Assert.Equal(kept.Select(o => o.PodId).Append(sentinelPod).Order(), pods.Keys.Order());
        Assert.All(pods.Values, p => Assert.Equal(PodSandboxState.SandboxReady, p.State));
        Assert.Equal(kept.Select(o => o.ContainerId).Concat(sentinels.Select(s => s.ContainerId)).Order(), containers.Select(c => c.Id).Order());

        var exitedWhileDown = 0;
        foreach (var outcome in kept)
        {
            var status = (await client.StatusAsync(outcome.ContainerId)).Status;
            if (outcome.Workload == Workload.Sleeps)
            {
                Assert.True(status.State == ContainerState.ContainerRunning, $"pod {outcome.Index}'s container is {status.State}");
                Assert.True(status.StartedAt > 0, $"pod {outcome.Index}'s running container has no started_at");
                Assert.Equal(outcome.Pid, PidOf(await client.StatusAsync(outcome.ContainerId)));
                Assert.Equal(outcome.PidStartTime, HostInspection.StartTimeOf(outcome.Pid));
            }
            else
            {
                var exited = await WaitForExitAsync(client, outcome.ContainerId);
                AssertExitedWith7(exited);
                exitedWhileDown += sentinels.Count(s => InWindow(exited.FinishedAt, s));
            }
        }
        foreach (var sentinel in sentinels)
        {
            var status = (await client.StatusAsync(sentinel.ContainerId)).Status;
            AssertExitedWith7(status);
            Assert.True(InWindow(status.FinishedAt, sentinel),
                $"sentinel finished at {FromNanoseconds(status.FinishedAt):O}, not between the kill at {sentinel.KilledAt:O} and the restart at {sentinel.RestartedAt:O}");
        }
        output.WriteLine($"verified: {pods.Count} pods, {containers.Count} containers; {kept.Count(o => o.Workload == Workload.Sleeps)} kept their PIDs; " +
            $"{sentinels.Count} sentinels and {exitedWhileDown} worker containers exited while the daemon was down, all with 7");
    }

    private static void AssertExitedWith7(ContainerStatus status)
    {
        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal(7, status.ExitCode);
        Assert.True(status.StartedAt > 0 && status.FinishedAt > status.StartedAt, $"started_at {status.StartedAt}, finished_at {status.FinishedAt}");
    }

    private static bool InWindow(long finishedAtNanoseconds, Sentinel sentinel)
    {
        var finished = FromNanoseconds(finishedAtNanoseconds);
        return finished >= sentinel.KilledAt && finished <= sentinel.RestartedAt;
    }

    private static DateTime FromNanoseconds(long nanoseconds) => DateTime.UnixEpoch.AddTicks(nanoseconds / 100);

    private static async Task<ContainerStatus> WaitForExitAsync(KubeletLikeClient client, string containerId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var status = (await client.StatusAsync(containerId)).Status;
            if (status.State == ContainerState.ContainerExited || DateTime.UtcNow > deadline)
            {
                return status;
            }
            await Task.Delay(50);
        }
    }

    private sealed class StepCounter
    {
        private int _steps;

        public int Steps => Volatile.Read(ref _steps);

        public void Step() => Interlocked.Increment(ref _steps);
    }
}
