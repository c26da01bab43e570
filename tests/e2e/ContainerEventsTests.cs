using System.Threading.Channels;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>GetContainerEvents as kubelet's evented PLEG reads it: every lifecycle step, in order, without polling.</summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ContainerEventsTests(RegistryFixture registry) : IAsyncLifetime
{
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(20);
    private DaemonWithPod _pod = null!;

    public async Task InitializeAsync() => _pod = await DaemonWithPod.StartAsync(registry, "events");

    public async Task DisposeAsync() => await _pod.DisposeAsync();

    private RuntimeService.RuntimeServiceClient Runtime => _pod.Runtime;

    [Fact]
    public async Task FiftyContainerLifecycles_EveryEventArrivesInOrder()
    {
        using var events = await EventRecorder.StartAsync(Runtime);
        var ids = new List<string>();
        for (var index = 0; index < 50; index++)
        {
            // Even ones exit by themselves (the stop is seen by the exit watcher alone), odd ones are stopped.
            var exitsAlone = index % 2 == 0;
            var id = await _pod.StartContainerAsync($"c{index}", null, exitsAlone ? ["true"] : ["sleep", "3600"]);
            ids.Add(id);
            if (exitsAlone)
            {
                await events.WaitForAsync(id, ContainerEventType.ContainerStoppedEvent, EventWait);
            }
            else
            {
                await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
            }
            await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });
        }
        await events.WaitForAsync(ids[^1], ContainerEventType.ContainerDeletedEvent, EventWait);

        var received = events.Snapshot();
        ContainerEventType[] lifecycle =
        [
            ContainerEventType.ContainerCreatedEvent, ContainerEventType.ContainerStartedEvent,
            ContainerEventType.ContainerStoppedEvent, ContainerEventType.ContainerDeletedEvent,
        ];
        foreach (var (id, index) in ids.Select((id, index) => (id, index)))
        {
            var own = received.Where(e => e.ContainerId == id).ToList();
            Assert.Equal(lifecycle, own.Select(e => e.ContainerEventType));
            Assert.All(own, e => Assert.Equal(_pod.PodId, e.PodSandboxStatus.Id));
            Assert.Contains(own[0].ContainersStatuses, s => s.Id == id && s.State == ContainerState.ContainerCreated);
            // The statuses are a snapshot taken when the event is sent: `true` may be gone by then.
            var runningAtStart = index % 2 == 1 ? [ContainerState.ContainerRunning] : new[] { ContainerState.ContainerRunning, ContainerState.ContainerExited };
            Assert.Contains(own[1].ContainersStatuses, s => s.Id == id && runningAtStart.Contains(s.State));
            Assert.Contains(own[2].ContainersStatuses, s => s.Id == id && s.State == ContainerState.ContainerExited);
            Assert.DoesNotContain(own[3].ContainersStatuses, s => s.Id == id);
        }
        // One stream, one order: the events of a container are never interleaved with a later container's.
        var order = received.Where(e => ids.Contains(e.ContainerId)).Select(e => ids.IndexOf(e.ContainerId)).ToList();
        Assert.Equal(order.Order(), order);
        Assert.All(received.Zip(received.Skip(1)), pair => Assert.True(pair.First.CreatedAt <= pair.Second.CreatedAt));
    }

    [Fact]
    public async Task ExitedContainer_StoppedEventCarriesTheExitCode()
    {
        using var events = await EventRecorder.StartAsync(Runtime);
        var id = await _pod.StartContainerAsync("exits", null, "sh", "-c", "exit 7");

        var stopped = await events.WaitForAsync(id, ContainerEventType.ContainerStoppedEvent, EventWait);

        var status = Assert.Single(stopped.ContainersStatuses, s => s.Id == id);
        Assert.Equal(7, status.ExitCode);
        Assert.Equal("Error", status.Reason);
    }

    [Fact]
    public async Task PodLifecycle_ReportedWithThePodIdAsContainerId()
    {
        using var events = await EventRecorder.StartAsync(Runtime);
        var config = CriRequests.Pod("events-pod", Path.Combine(_pod.Daemon.BaseDirectory, "logs2"));
        var podId = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });

        await events.WaitForAsync(podId, ContainerEventType.ContainerDeletedEvent, EventWait);
        var own = events.Snapshot().Where(e => e.ContainerId == podId).ToList();
        Assert.Equal([ContainerEventType.ContainerStartedEvent, ContainerEventType.ContainerStoppedEvent, ContainerEventType.ContainerDeletedEvent],
            own.Select(e => e.ContainerEventType));
        Assert.Equal(PodSandboxState.SandboxReady, own[0].PodSandboxStatus.State);
        Assert.Equal(PodSandboxState.SandboxNotready, own[1].PodSandboxStatus.State);
        Assert.Equal("events-pod", own[2].PodSandboxStatus.Metadata.Name);
    }

    /// <summary>Reads one GetContainerEvents stream in the background and keeps everything it got.</summary>
    private sealed class EventRecorder : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<ContainerEventResponse> _received = [];
        private readonly Channel<ContainerEventResponse> _arrivals = Channel.CreateUnbounded<ContainerEventResponse>();
        private readonly AsyncServerStreamingCall<ContainerEventResponse> _call;
        private readonly Task _reader;

        private EventRecorder(RuntimeService.RuntimeServiceClient runtime)
        {
            _call = runtime.GetContainerEvents(new GetEventsRequest(), cancellationToken: _stop.Token);
            _reader = Task.Run(ReadAsync);
        }

        /// <summary>Returns once the server has subscribed (it sends the response headers then).</summary>
        public static async Task<EventRecorder> StartAsync(RuntimeService.RuntimeServiceClient runtime)
        {
            var recorder = new EventRecorder(runtime);
            await recorder._call.ResponseHeadersAsync.WaitAsync(TimeSpan.FromSeconds(10));
            return recorder;
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var item in _call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    lock (_received)
                    {
                        _received.Add(item);
                    }
                    _arrivals.Writer.TryWrite(item);
                }
                _arrivals.Writer.TryComplete(new InvalidOperationException("the event stream ended"));
            }
            catch (Exception exception)
            {
                _arrivals.Writer.TryComplete(exception);
            }
        }

        public List<ContainerEventResponse> Snapshot()
        {
            lock (_received)
            {
                return [.. _received];
            }
        }

        public async Task<ContainerEventResponse> WaitForAsync(string id, ContainerEventType type, TimeSpan timeout)
        {
            var existing = Snapshot().FirstOrDefault(e => e.ContainerId == id && e.ContainerEventType == type);
            if (existing is not null)
            {
                return existing;
            }
            using var limit = new CancellationTokenSource(timeout);
            try
            {
                await foreach (var item in _arrivals.Reader.ReadAllAsync(limit.Token))
                {
                    if (item.ContainerId == id && item.ContainerEventType == type)
                    {
                        return item;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            throw new Xunit.Sdk.XunitException($"no {type} for {id} within {timeout}; got: "
                + string.Join(", ", Snapshot().Select(e => $"{e.ContainerId[..8]}:{e.ContainerEventType}")));
        }

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _reader.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
            _call.Dispose();
            _stop.Dispose();
        }
    }
}
