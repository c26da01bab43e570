using System.Globalization;
using System.Threading.Channels;
using CriOci.Cri.V1;
using CriOci.Streaming.RemoteCommand;
using CriOci.Streaming.Spdy;
using Microsoft.AspNetCore.Http;

namespace CriOci.Streaming.PortForward;

/// <summary>
/// Port forwarding over SPDY (kubelet's portforward httpstream handler): for each forwarded
/// connection the client opens an error and a data stream with the same requestID and port
/// headers; each complete pair is served on its own, and a failure is written to that pair's
/// error stream only. The session lasts until the client hangs up.
/// </summary>
internal static class SpdyPortForward
{
    public static async Task ServeAsync(HttpContext context, StreamingServer server, PortForwardRequest request)
    {
        var upgraded = await SpdyUpgrade.TryUpgradeAsync(context, [PortForwardProtocol.SpdyV1], server.Logger);
        if (upgraded is not var (protocol, transport))
        {
            return;
        }
        await using var connection = new SpdyConnection(transport, server.Logger);
        connection.Start();
        Log.SessionStarted(server.Logger, "port-forward", request.PodSandboxId, "SPDY " + protocol);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed, context.RequestAborted);

        var pending = new Dictionary<string, StreamPair>(StringComparer.Ordinal);
        var running = new List<Task>();
        try
        {
            await foreach (var stream in connection.IncomingStreams.ReadAllAsync(lifetime.Token))
            {
                var requestId = RequestIdOf(stream);
                if (!pending.TryGetValue(requestId, out var pair))
                {
                    pair = new StreamPair();
                    pending[requestId] = pair;
                    running.Add(ExpireIncompleteAsync(pair, server.Options.StreamCreationTimeout, lifetime.Token));
                }
                if (pair.Add(stream) is { } problem)
                {
                    await pair.FailAsync($"error processing stream for request {requestId}: {problem}");
                }
                else if (pair.IsComplete)
                {
                    pending.Remove(requestId);
                    running.Add(ForwardAsync(server, request.PodSandboxId, pair, lifetime.Token));
                }
                running.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await lifetime.CancelAsync();
        await Task.WhenAll(running);
        await connection.CloseAsync(server.Options.CloseGracePeriod);
    }

    /// <summary>
    /// The requestID header; clients older than it (kubectl before 1.6) get kubelet's guess from
    /// the stream id: an error stream's own id, a data stream's id minus 2.
    /// </summary>
    private static string RequestIdOf(SpdyStream stream)
    {
        if (stream.Header(PortForwardProtocol.RequestIdHeader) is { Length: > 0 } requestId)
        {
            return requestId;
        }
        var id = string.Equals(stream.Header(StreamType.Header), StreamType.Data, StringComparison.OrdinalIgnoreCase) ? stream.Id - 2 : stream.Id;
        return id.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task ForwardAsync(StreamingServer server, string podSandboxId, StreamPair pair, CancellationToken cancellationToken)
    {
        var data = pair.Data!;
        var error = pair.Error!;
        var portText = data.Header(PortForwardProtocol.PortHeader);
        try
        {
            if (!PortForwardProtocol.TryParsePort(portText, out var port))
            {
                throw new InvalidDataException($"invalid port header {portText}");
            }
            try
            {
                await server.Runtime.PortForwardAsync(podSandboxId, port, data, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Any failure of this one connection belongs on its error stream, not to the session.
                Log.PortForwardFailed(server.Logger, port, podSandboxId, e.Message);
                await error.WriteAsync(System.Text.Encoding.UTF8.GetBytes(PortForwardProtocol.ForwardingError(port, podSandboxId, e.Message)), cancellationToken);
            }
        }
        catch (InvalidDataException e)
        {
            await pair.FailAsync(e.Message);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client is gone.
        }
        finally
        {
            await data.CloseWriteAsync();
            await error.CloseWriteAsync();
        }
    }

    private static async Task ExpireIncompleteAsync(StreamPair pair, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAny(pair.Completed, Task.Delay(timeout, cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
        if (!pair.IsComplete && !cancellationToken.IsCancellationRequested)
        {
            await pair.FailAsync("timed out waiting for streams");
        }
    }

    /// <summary>The error and data stream of one forwarded connection.</summary>
    private sealed class StreamPair
    {
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SpdyStream? Data { get; private set; }
        public SpdyStream? Error { get; private set; }
        public bool IsComplete => Data is not null && Error is not null;
        public Task Completed => _completed.Task;

        /// <summary>Null when accepted; otherwise what is wrong with the stream.</summary>
        public string? Add(SpdyStream stream)
        {
            var type = stream.Header(StreamType.Header)?.ToLowerInvariant();
            switch (type)
            {
                case StreamType.Error when Error is null:
                    Error = stream;
                    break;
                case StreamType.Data when Data is null:
                    Data = stream;
                    break;
                case StreamType.Error or StreamType.Data:
                    _ = stream.ResetAsync(SpdyResetStatus.ProtocolError);
                    return $"{type} stream already assigned";
                default:
                    _ = stream.ResetAsync(SpdyResetStatus.ProtocolError);
                    return $"invalid stream type {type}";
            }
            if (IsComplete)
            {
                _completed.TrySetResult();
            }
            return null;
        }

        public async Task FailAsync(string message)
        {
            if (Error is { } error)
            {
                try
                {
                    await error.WriteAsync(System.Text.Encoding.UTF8.GetBytes(message));
                }
                catch (IOException)
                {
                }
                await error.CloseWriteAsync();
            }
            if (Data is { } data)
            {
                await data.ResetAsync(SpdyResetStatus.Cancel);
            }
        }
    }
}
