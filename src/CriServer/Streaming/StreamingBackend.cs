using System.Net.Sockets;
using CriOci.OciRuntime.Launch;
using CriOci.PodSandbox;
using CriOci.Streaming;

namespace CriOci.CriServer.Streaming;

/// <summary>
/// The container side of streaming sessions: moves bytes between the protocol's streams and
/// an exec'd process, a container's monitor (attach) or a port inside the pod.
/// </summary>
internal sealed class StreamingBackend(ISandboxManager sandboxes) : IStreamingRuntime
{
    /// <summary>Output still in flight when a process has exited; background children may hold the pipes open for ever.</summary>
    private static readonly TimeSpan OutputDrain = TimeSpan.FromSeconds(2);

    public async Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken)
    {
        // Disposing kills the process if it still runs: a client that went away cannot reach it again.
        await using var process = await sandboxes.ExecInteractiveAsync(containerId, command, io.Tty, io.Stdin is not null, cancellationToken).ConfigureAwait(false);
        var output = new List<Task> { CopyOutputAsync(process.Stdout, io.Stdout) };
        if (process.Stderr is not null)
        {
            output.Add(CopyOutputAsync(process.Stderr, io.Stderr));
        }
        _ = ForwardInputAsync(io.Stdin, process.Stdin, cancellationToken);
        _ = ForwardResizesAsync(io, process.Resize, cancellationToken);
        var exitCode = await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(output).WaitAsync(OutputDrain, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return exitCode;
    }

    public async Task AttachAsync(string containerId, StreamingIo io, CancellationToken cancellationToken)
    {
        await using var connection = await sandboxes.AttachAsync(containerId, cancellationToken).ConfigureAwait(false);
        if (io.Stdin is not null && connection.Stdin)
        {
            _ = ForwardAttachInputAsync(io.Stdin, connection, cancellationToken);
        }
        if (connection.Terminal)
        {
            _ = ForwardResizesAsync(io, (width, height) => _ = connection.ResizeAsync(width, height, cancellationToken), cancellationToken);
        }
        while (await connection.ReadOutputAsync(cancellationToken).ConfigureAwait(false) is { } output)
        {
            // On a terminal everything is stdout; a client that did not ask for a stream does not get it.
            var target = output.Stream == AttachStream.Stderr && !connection.Terminal ? io.Stderr : io.Stdout;
            if (target is not null)
            {
                await target.WriteAsync(output.Data, cancellationToken).ConfigureAwait(false);
                await target.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async Task PortForwardAsync(string podSandboxId, int port, Stream connection, CancellationToken cancellationToken)
    {
        await using var target = await sandboxes.ConnectToPodPortAsync(podSandboxId, port, cancellationToken).ConfigureAwait(false);
        var toPod = Task.Run(async () =>
        {
            await connection.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            // The client finished sending: pass the end on, keep reading the answer.
            (target as NetworkStream)?.Socket.Shutdown(SocketShutdown.Send);
        }, cancellationToken);
        await target.CopyToAsync(connection, cancellationToken).ConfigureAwait(false);
        await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
        await toPod.WaitAsync(OutputDrain, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static async Task CopyOutputAsync(Stream source, Stream? destination)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                if (destination is not null)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                    await destination.FlushAsync().ConfigureAwait(false);
                }
            }
        }
        catch (IOException)
        {
            // The client went away (its stream is closed) or the process's side broke: both end the copy.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Client input to the process; the client's end of input becomes the process's (EOF, or EOT on a terminal).</summary>
    private static async Task ForwardInputAsync(Stream? source, Stream? processStdin, CancellationToken cancellationToken)
    {
        if (source is null || processStdin is null)
        {
            return;
        }
        try
        {
            await source.CopyToAsync(processStdin, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            await processStdin.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task ForwardAttachInputAsync(Stream source, AttachConnection connection, CancellationToken cancellationToken)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await connection.WriteStdinAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // Detaching is the client's right; the container keeps its stdin (stdin_once is the monitor's business).
        }
    }

    private static async Task ForwardResizesAsync(StreamingIo io, Action<ushort, ushort> resize, CancellationToken cancellationToken)
    {
        if (io.Resize is null)
        {
            return;
        }
        try
        {
            await foreach (var size in io.Resize.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                resize(size.Width, size.Height);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }
}
