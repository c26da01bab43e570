using System.Threading.Channels;
using CriOci.Streaming.Spdy;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CriOci.Streaming.RemoteCommand;

/// <summary>
/// Exec and attach over SPDY (kubelet's remotecommand httpstream handlers): the client opens one
/// stream per role, named by its streamType header; once every stream the session asked for is
/// there the command runs, then the error stream gets the outcome and everything is closed.
/// </summary>
internal static class SpdyRemoteCommand
{
    public static async Task ServeAsync(HttpContext context, StreamingServer server, IMessage request, string verb)
    {
        var upgraded = await SpdyUpgrade.TryUpgradeAsync(context, RemoteCommandProtocol.Spdy, server.Logger);
        if (upgraded is not var (protocol, transport))
        {
            return;
        }
        await using var connection = new SpdyConnection(transport, server.Logger);
        connection.Start();
        var requested = RemoteCommandRunner.StreamsOf(request);
        var streams = await WaitForStreamsAsync(connection, ExpectedTypes(requested, protocol), server.Options.StreamCreationTimeout);
        if (streams is null)
        {
            Log.StreamCreationTimedOut(server.Logger, server.Options.StreamCreationTimeout.TotalSeconds);
            await connection.CloseAsync(TimeSpan.Zero);
            return;
        }
        Log.SessionStarted(server.Logger, verb, RemoteCommandRunner.TargetOf(request), "SPDY " + protocol);

        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed, context.RequestAborted);
        Channel<TerminalSize>? resize = null;
        var resizePump = Task.CompletedTask;
        if (requested.Tty && streams.TryGetValue(StreamType.Resize, out var resizeStream))
        {
            resize = Channel.CreateUnbounded<TerminalSize>();
            resizePump = ResizeDecoder.PumpAsync(resizeStream, resize.Writer, lifetime.Token);
        }
        var io = new StreamingIo
        {
            Stdin = requested.Stdin ? streams.GetValueOrDefault(StreamType.Stdin) : null,
            Stdout = requested.Stdout ? streams.GetValueOrDefault(StreamType.Stdout) : null,
            Stderr = requested.Stderr && !requested.Tty ? streams.GetValueOrDefault(StreamType.Stderr) : null,
            Tty = requested.Tty,
            Resize = resize?.Reader,
        };

        var status = await RemoteCommandRunner.RunAsync(server, request, io, lifetime.Token);

        foreach (var output in new[] { StreamType.Stdout, StreamType.Stderr })
        {
            if (streams.TryGetValue(output, out var stream))
            {
                await stream.CloseWriteAsync();
            }
        }
        var errorStream = streams[StreamType.Error];
        if (RemoteCommandProtocol.EncodeStatus(protocol, status) is { } encoded)
        {
            try
            {
                await errorStream.WriteAsync(encoded, lifetime.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The client left before the outcome; nobody to tell.
            }
        }
        foreach (var stream in streams.Values)
        {
            await stream.CloseWriteAsync();
        }
        await connection.CloseAsync(server.Options.CloseGracePeriod);
        await lifetime.CancelAsync();
        await resizePump;
    }

    private static HashSet<string> ExpectedTypes(RequestedStreams requested, string protocol)
    {
        var expected = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { StreamType.Error };
        if (requested.Stdin)
        {
            expected.Add(StreamType.Stdin);
        }
        if (requested.Stdout)
        {
            expected.Add(StreamType.Stdout);
        }
        if (requested.Stderr && !requested.Tty)
        {
            expected.Add(StreamType.Stderr);
        }
        if (requested.Tty && RemoteCommandProtocol.SupportsResize(protocol))
        {
            expected.Add(StreamType.Resize);
        }
        return expected;
    }

    /// <summary>The client's streams by type once all expected ones exist; null on timeout or hang-up.</summary>
    private static async Task<Dictionary<string, SpdyStream>?> WaitForStreamsAsync(SpdyConnection connection, HashSet<string> expected, TimeSpan timeout)
    {
        var streams = new Dictionary<string, SpdyStream>(StringComparer.OrdinalIgnoreCase);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (!expected.IsSubsetOf(streams.Keys))
            {
                var stream = await connection.IncomingStreams.ReadAsync(deadline.Token);
                var type = stream.Header(StreamType.Header);
                if (type is not null && StreamType.IsKnown(type) && !streams.ContainsKey(type))
                {
                    streams[type] = stream;
                }
                else
                {
                    await stream.ResetAsync(SpdyResetStatus.RefusedStream);
                }
            }
            return streams;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            return null;
        }
    }
}

/// <summary>The streamType header and its values (k8s.io/api/core/v1 StreamType*).</summary>
internal static class StreamType
{
    public const string Header = "streamType";
    public const string Error = "error";
    public const string Stdin = "stdin";
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
    public const string Resize = "resize";
    public const string Data = "data";

    public static bool IsKnown(string type) =>
        type.ToLowerInvariant() is Error or Stdin or Stdout or Stderr or Resize;
}
