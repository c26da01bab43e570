using System.Net.Sockets;
using CriOci.OciRuntime.State;
using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Launch;

/// <summary>Which of the container's streams an attach output chunk came from.</summary>
public enum AttachStream
{
    Stdout,
    Stderr,
}

/// <summary>One piece of the container's output, seen through attach.</summary>
public sealed record AttachOutput(AttachStream Stream, ReadOnlyMemory<byte> Data);

/// <summary>
/// The daemon's end of an attach session with a container's monitor (see
/// <see cref="AttachProtocol"/>). Output is read in order until the container exits or the
/// monitor goes away; input, end of input and terminal sizes are sent to the monitor.
/// Disposing detaches; the container keeps running.
/// </summary>
public sealed class AttachConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private AttachConnection(Socket socket, bool terminal, bool stdin)
    {
        _socket = socket;
        Terminal = terminal;
        Stdin = stdin;
    }

    /// <summary>The container runs on a terminal (its output is all stdout; resizes apply).</summary>
    public bool Terminal { get; }

    /// <summary>The container was created with stdin, so input is passed on.</summary>
    public bool Stdin { get; }

    /// <summary>
    /// Connects to the attach socket of container <paramref name="id"/>'s monitor, for the
    /// embedded and the external runtimes alike (both run our monitor): NotFound for an unknown
    /// container, FailedPrecondition for one that has stopped or has no monitor to attach to.
    /// </summary>
    internal static async Task<AttachConnection> ConnectAsync(string id, RuntimeContainerState? state, string attachSocketPath, CancellationToken cancellationToken)
    {
        if (state is null)
        {
            throw new Core.NotFoundException($"container {id} not found");
        }
        if (state.Status is not (ContainerStatus.Running or ContainerStatus.Created or ContainerStatus.Paused))
        {
            throw new Core.FailedPreconditionException($"container {id} is {state.Status.ToSpecString()}, not running");
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using (var address = Linux.UnixSocketPath.For(attachSocketPath))
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(address.Address), cancellationToken).ConfigureAwait(false);
            }
            return await OpenAsync(socket, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            socket.Dispose();
            // The container exited between the look and the connect, or it was created without a monitor (the CLI).
            throw new Core.FailedPreconditionException($"container {id} cannot be attached to: {exception.Message}");
        }
    }

    /// <summary>Waits for the monitor's greeting: from then on the connection sees all output.</summary>
    internal static async Task<AttachConnection> OpenAsync(Socket socket, CancellationToken cancellationToken)
    {
        var greeting = await AttachProtocol.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
        if (greeting is not (AttachFrameKind.Attached, { Length: 1 } flags))
        {
            throw new IOException("the monitor closed the attach connection without a greeting");
        }
        return new AttachConnection(socket, (flags[0] & 1) != 0, (flags[0] & 2) != 0);
    }

    /// <summary>The container's exit code once its monitor reported it (after <see cref="ReadOutputAsync"/> returned null).</summary>
    public int? ExitCode { get; private set; }

    /// <summary>The next piece of output; null once the container exited (see <see cref="ExitCode"/>) or the monitor closed.</summary>
    public async Task<AttachOutput?> ReadOutputAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            (AttachFrameKind Kind, byte[] Payload)? frame;
            try
            {
                frame = await AttachProtocol.ReadAsync(_socket, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                return null; // the monitor went away (killed, or it dropped us for falling behind)
            }
            switch (frame)
            {
                case null:
                    return null;
                case (AttachFrameKind.Stdout, var data):
                    return new AttachOutput(AttachStream.Stdout, data);
                case (AttachFrameKind.Stderr, var data):
                    return new AttachOutput(AttachStream.Stderr, data);
                case (AttachFrameKind.Exit, var data) when data.Length == 4:
                    ExitCode = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data);
                    return null;
            }
        }
    }

    /// <summary>Sends bytes to the container's stdin (dropped by the monitor when the container has none).</summary>
    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        SendAsync(AttachProtocol.Frame(AttachFrameKind.Stdin, data.Span), cancellationToken);

    /// <summary>Ends the container's input: its stdin pipe is closed, or its terminal gets EOT.</summary>
    public Task CloseStdinAsync(CancellationToken cancellationToken) =>
        SendAsync(AttachProtocol.Frame(AttachFrameKind.StdinClose, []), cancellationToken);

    /// <summary>Sets the container's terminal size; ignored without a terminal.</summary>
    public Task ResizeAsync(ushort width, ushort height, CancellationToken cancellationToken) =>
        SendAsync(AttachProtocol.ResizeFrame(width, height), cancellationToken);

    private async Task SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
