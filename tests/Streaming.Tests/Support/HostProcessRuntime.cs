using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CriOci.Core;

namespace CriOci.Streaming.Tests.Support;

/// <summary>
/// A streaming runtime on the host: exec and attach run real processes (pipes, or a real pty
/// with the process as its session leader), port-forward connects to real TCP ports on
/// 127.0.0.1. It records what reached it so the tests can check the server's side effects.
/// </summary>
internal sealed class HostProcessRuntime : IStreamingRuntime
{
    /// <summary>Exec into this container fails like a stopped container does.</summary>
    public const string StoppedContainer = "stopped";

    private readonly ConcurrentQueue<string> _calls = new();
    private readonly ConcurrentQueue<TerminalSize> _resizes = new();
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdinEof = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;

    /// <summary>The process attach connects to, per container id.</summary>
    public ConcurrentDictionary<string, string[]> AttachCommands { get; } = new();

    public IReadOnlyCollection<string> Calls => _calls;
    public IReadOnlyCollection<TerminalSize> Resizes => _resizes;
    public int Running => Volatile.Read(ref _running);
    public Task Cancelled => _cancelled.Task;
    public Task StdinEof => _stdinEof.Task;

    public async Task<int> ExecAsync(string containerId, IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken)
    {
        _calls.Enqueue($"exec {containerId} {string.Join(' ', command)}");
        if (containerId == StoppedContainer)
        {
            throw new FailedPreconditionException($"container {containerId} is not running");
        }
        return await RunAsync(command, io, cancellationToken);
    }

    public async Task AttachAsync(string containerId, StreamingIo io, CancellationToken cancellationToken)
    {
        _calls.Enqueue($"attach {containerId}");
        if (!AttachCommands.TryGetValue(containerId, out var command))
        {
            throw new NotFoundException($"container {containerId} not found");
        }
        await RunAsync(command, io, cancellationToken);
    }

    public async Task PortForwardAsync(string podSandboxId, int port, Stream connection, CancellationToken cancellationToken)
    {
        _calls.Enqueue($"port-forward {podSandboxId} {port}");
        using var target = new TcpClient();
        await target.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var network = target.GetStream();
        using var upstreamDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var upstream = Task.Run(async () =>
        {
            await connection.CopyToAsync(network, upstreamDone.Token);
            target.Client.Shutdown(SocketShutdown.Send);
        }, CancellationToken.None);
        await network.CopyToAsync(connection, cancellationToken);
        await upstreamDone.CancelAsync();
        await IgnoreEndAsync(upstream);
    }

    /// <summary>Waits until at least <paramref name="count"/> resize events reached the runtime.</summary>
    public async Task WaitForResizesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_resizes.Count < count)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private async Task<int> RunAsync(IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _running);
        try
        {
            return io.Tty ? await RunWithPtyAsync(command, io, cancellationToken) : await RunWithPipesAsync(command, io, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            _cancelled.TrySetResult();
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private async Task<int> RunWithPipesAsync(IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command[0]}");
        using var stdinDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stdin = CopyStdinAsync(io.Stdin, process.StandardInput.BaseStream, () => process.StandardInput.Close(), stdinDone.Token);
        var stdout = CopyOutputAsync(process.StandardOutput.BaseStream, io.Stdout);
        var stderr = CopyOutputAsync(process.StandardError.BaseStream, io.Stderr);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            await stdinDone.CancelAsync();
            await Task.WhenAll(IgnoreEndAsync(stdin), IgnoreEndAsync(stdout), IgnoreEndAsync(stderr));
            throw;
        }
        await Task.WhenAll(stdout, stderr);
        // The process is gone: whatever the client still sends on stdin has nowhere to go.
        await stdinDone.CancelAsync();
        await IgnoreEndAsync(stdin);
        return process.ExitCode;
    }

    private async Task<int> RunWithPtyAsync(IReadOnlyList<string> command, StreamingIo io, CancellationToken cancellationToken)
    {
        using var pty = Pty.Open();
        // sh opens the slave as stdin/stdout/stderr, setsid --ctty makes it the controlling terminal.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var argument in new[] { "-c", "exec setsid --ctty \"$@\" <\"$0\" >\"$0\" 2>&1", pty.SlavePath }.Concat(command))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /bin/sh");
        await using var master = new FileStream(pty.Master, FileAccess.ReadWrite, bufferSize: 0);
        using var sessionDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resizes = ApplyResizesAsync(io, pty, sessionDone.Token);
        // A terminal has no EOF of its own: ^D at the start of a line is how a shell user sends one.
        var stdin = CopyStdinAsync(io.Stdin, master, () => master.Write([4]), sessionDone.Token);
        var output = CopyTerminalOutputAsync(master, io.Stdout);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            await output;
            await sessionDone.CancelAsync();
            await Task.WhenAll(IgnoreEndAsync(stdin), IgnoreEndAsync(resizes));
        }
        return process.ExitCode;
    }

    private async Task ApplyResizesAsync(StreamingIo io, Pty pty, CancellationToken cancellationToken)
    {
        if (io.Resize is null)
        {
            return;
        }
        await foreach (var size in io.Resize.ReadAllAsync(cancellationToken))
        {
            pty.Resize(size);
            _resizes.Enqueue(size);
        }
    }

    private async Task CopyStdinAsync(Stream? source, Stream target, Action endOfInput, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            endOfInput();
            return;
        }
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await target.FlushAsync(cancellationToken);
        }
        _stdinEof.TrySetResult();
        endOfInput();
    }

    private static async Task CopyOutputAsync(Stream source, Stream? target)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            if (target is not null)
            {
                await target.WriteAsync(buffer.AsMemory(0, read));
            }
        }
    }

    private static async Task CopyTerminalOutputAsync(Stream master, Stream? target)
    {
        try
        {
            await CopyOutputAsync(master, target);
        }
        catch (IOException)
        {
            // EIO: the last process holding the slave side exited.
        }
    }

    private static async Task IgnoreEndAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }
    }
}
