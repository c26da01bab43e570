using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// kubelet's evented PLEG: every pod and container lifecycle event from the moment of the
    /// call, until the client goes. A client that falls far behind gets Unavailable and
    /// reconnects (then relists), rather than a stream with holes in it.
    /// </summary>
    public override async Task GetContainerEvents(GetEventsRequest request, IServerStreamWriter<ContainerEventResponse> responseStream, ServerCallContext context)
    {
        using var subscription = sandboxes.SubscribeContainerEvents();
        // A stream that never ends on its own would hold a graceful shutdown for its whole
        // timeout: end it when the daemon stops; kubelet reconnects to the next one.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var events = subscription.Events;
        try
        {
            // Headers go out once the subscription exists: a client that waits for them knows
            // every later event will reach it.
            await context.WriteResponseHeadersAsync([]).ConfigureAwait(false);
            while (await events.WaitToReadAsync(ending.Token).ConfigureAwait(false))
            {
                while (events.TryRead(out var containerEvent))
                {
                    await responseStream.WriteAsync(containerEvent, ending.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new Core.UnavailableException("the runtime is shutting down");
        }
    }
}
