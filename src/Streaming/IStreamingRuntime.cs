using System.Threading.Channels;

namespace CriOci.Streaming;

/// <summary>A terminal size in character cells, as kubelet's remotecommand TerminalSize.</summary>
public readonly record struct TerminalSize(ushort Width, ushort Height);

/// <summary>What the client asked for; null streams were not requested.</summary>
public sealed class StreamingIo
{
    /// <summary>Client bytes; a read returns 0 (EOF) once the client closed stdin or went away.</summary>
    public Stream? Stdin { get; init; }

    /// <summary>Write only. With a tty it carries the merged output.</summary>
    public Stream? Stdout { get; init; }

    /// <summary>Write only; always null with a tty.</summary>
    public Stream? Stderr { get; init; }

    public bool Tty { get; init; }

    /// <summary>Terminal resize events (tty only); completes when the client closed its resize stream.</summary>
    public ChannelReader<TerminalSize>? Resize { get; init; }
}

/// <summary>
/// The container side of a streaming session. The server owns the protocol; the runtime only
/// moves bytes. Errors are CriOci.Core exceptions (NotFoundException, FailedPreconditionException...);
/// the server reports them to the client on the session's error stream. The cancellation token
/// fires when the client goes away (its stdin then also reads EOF); the runtime decides whether
/// that ends the process (exec should: kubelet's clients have no way back to it).
/// </summary>
public interface IStreamingRuntime
{
    /// <summary>Runs <paramref name="command"/> in the container and returns its exit code.</summary>
    Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken);

    /// <summary>Connects <paramref name="io"/> to the container's main process until it ends or the client leaves.</summary>
    Task AttachAsync(string containerId, StreamingIo io, CancellationToken cancellationToken);

    /// <summary>
    /// Copies both ways between <paramref name="connection"/> and <paramref name="port"/> inside
    /// the pod's network namespace until either side ends. Throws when the port cannot be
    /// reached; that error goes on that stream's error channel only.
    /// </summary>
    Task PortForwardAsync(string podSandboxId, int port, Stream connection, CancellationToken cancellationToken);
}
