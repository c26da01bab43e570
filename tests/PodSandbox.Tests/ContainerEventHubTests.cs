using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Events;

namespace CriOci.PodSandbox.Tests;

public sealed class ContainerEventHubTests
{
    private static ContainerEventResponse Event(string id) => new() { ContainerId = id };

    [Fact]
    public async Task EverySubscriber_GetsEveryEventInOrder()
    {
        var hub = new ContainerEventHub();
        using var first = hub.Subscribe();
        using var second = hub.Subscribe();

        foreach (var id in new[] { "a", "b", "c" })
        {
            hub.Publish(Event(id));
        }

        foreach (var subscription in new[] { first, second })
        {
            var ids = new List<string>();
            for (var index = 0; index < 3; index++)
            {
                ids.Add((await subscription.Events.ReadAsync()).ContainerId);
            }
            Assert.Equal(["a", "b", "c"], ids);
        }
    }

    [Fact]
    public async Task SlowSubscriber_IsCutOffWithUnavailable_OthersKeepReceiving()
    {
        var hub = new ContainerEventHub();
        using var slow = hub.Subscribe(capacity: 2);
        using var fast = hub.Subscribe(capacity: 10);

        hub.Publish(Event("1"));
        hub.Publish(Event("2"));
        hub.Publish(Event("3"));

        Assert.Equal(1, hub.SubscriberCount);
        Assert.Equal("1", (await slow.Events.ReadAsync()).ContainerId);
        Assert.Equal("2", (await slow.Events.ReadAsync()).ContainerId);
        var error = await Assert.ThrowsAsync<UnavailableException>(async () => await slow.Events.WaitToReadAsync());
        Assert.Contains("fell behind", error.Message);
        for (var expected = 1; expected <= 3; expected++)
        {
            Assert.Equal($"{expected}", (await fast.Events.ReadAsync()).ContainerId);
        }
    }

    [Fact]
    public void DisposedSubscriber_NoLongerCounted_AndItsStreamEnds()
    {
        var hub = new ContainerEventHub();
        var subscription = hub.Subscribe();
        subscription.Dispose();

        hub.Publish(Event("after"));

        Assert.Equal(0, hub.SubscriberCount);
        Assert.True(subscription.Events.Completion.IsCompleted);
        Assert.False(subscription.Events.TryRead(out _));
    }
}
