using System.Threading.Channels;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Events;

/// <summary>
/// Fans container lifecycle events out to every GetContainerEvents client. Each client has its
/// own bounded queue: publishing never waits for a client, and a client that falls too far
/// behind is cut off with an error (so it reconnects and relists) rather than silently missing
/// events, which would leave kubelet's evented PLEG with a wrong picture of the node.
/// </summary>
public sealed class ContainerEventHub
{
    /// <summary>kubelet reads events as they come; this many unread ones means it is stuck.</summary>
    public const int DefaultSubscriberCapacity = 4096;

    private readonly object _gate = new();
    private readonly List<Subscription> _subscribers = [];

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    public ContainerEventSubscription Subscribe(int capacity = DefaultSubscriberCapacity)
    {
        var subscription = new Subscription(this, capacity);
        lock (_gate)
        {
            _subscribers.Add(subscription);
        }
        return subscription;
    }

    /// <summary>Queues the event for every client in the order of the calls; never blocks.</summary>
    public void Publish(ContainerEventResponse containerEvent)
    {
        // Under the lock so that every client sees events in one global order.
        lock (_gate)
        {
            for (var index = _subscribers.Count - 1; index >= 0; index--)
            {
                var subscriber = _subscribers[index];
                if (!subscriber.Queue.Writer.TryWrite(containerEvent))
                {
                    _subscribers.RemoveAt(index);
                    subscriber.Queue.Writer.TryComplete(new Core.UnavailableException(
                        $"container event stream fell behind by more than {subscriber.Capacity} events; reconnect and list pods and containers again"));
                }
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
        }
        subscription.Queue.Writer.TryComplete();
    }

    private sealed class Subscription(ContainerEventHub hub, int capacity) : ContainerEventSubscription
    {
        public int Capacity { get; } = capacity;

        public Channel<ContainerEventResponse> Queue { get; } = Channel.CreateBounded<ContainerEventResponse>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public override ChannelReader<ContainerEventResponse> Events => Queue.Reader;

        public override void Dispose() => hub.Remove(this);
    }
}

/// <summary>One client's view of the event stream; dispose it when the client goes.</summary>
public abstract class ContainerEventSubscription : IDisposable
{
    /// <summary>Completes with an UnavailableException when the client fell behind.</summary>
    public abstract ChannelReader<ContainerEventResponse> Events { get; }

    public abstract void Dispose();
}
