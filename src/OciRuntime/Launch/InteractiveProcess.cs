using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Launch;

/// <summary>
/// A process exec'd into a container for an interactive session (kubectl exec -i/-t): its
/// streams, its terminal size and its exit. The process is a child of this one; disposing
/// kills it if it still runs, reaps it and closes every descriptor.
/// </summary>
public sealed class InteractiveProcess : IAsyncDisposable
{
    private readonly int _pid;
    private readonly int _pidFd;
    private readonly PollableFdStream? _terminal;
    private readonly Task<int> _exit;
    private int _disposed;

    internal InteractiveProcess(int pid, int pidFd, Stream? stdin, Stream stdout, Stream? stderr, PollableFdStream? terminal)
    {
        _pid = pid;
        _pidFd = pidFd;
        Stdin = stdin;
        Stdout = stdout;
        Stderr = stderr;
        _terminal = terminal;
        _exit = ReapAsync();
    }

    /// <summary>
    /// The process's input; disposing it is end of input (with a terminal, where input goes to
    /// the pty master, it sends EOT as ^D does). Null without stdin.
    /// </summary>
    public Stream? Stdin { get; }

    /// <summary>The process's output; with a terminal, everything it writes to the terminal.</summary>
    public Stream Stdout { get; }

    /// <summary>The process's error output; null with a terminal, where it is merged into <see cref="Stdout"/>.</summary>
    public Stream? Stderr { get; }

    /// <summary>True when the process runs on a terminal.</summary>
    public bool Terminal => _terminal is not null;

    /// <summary>Sets the terminal's size (the process gets SIGWINCH); nothing without a terminal or once disposed.</summary>
    public void Resize(ushort width, ushort height)
    {
        if (_terminal is { Fd: >= 0 } terminal)
        {
            Pty.SetWindowSize(terminal.Fd, width, height);
        }
    }

    /// <summary>The exit code: the process's own, or 128+signal when a signal killed it.</summary>
    public Task<int> WaitForExitAsync(CancellationToken cancellationToken) => _exit.WaitAsync(cancellationToken);

    /// <summary>Sends <paramref name="signal"/>; nothing once the process has been reaped.</summary>
    public void Kill(int signal)
    {
        if (!_exit.IsCompleted)
        {
            // Through the pidfd: the pid cannot have been reused by another process.
            LibC.pidfd_send_signal(_pidFd, signal);
        }
    }

    private async Task<int> ReapAsync()
    {
        // A pidfd becomes readable when the process exits.
        await FdPoller.Shared.WaitAsync(_pidFd, LibC.EPOLLIN, CancellationToken.None).ConfigureAwait(false);
        int status;
        while (LibC.waitpid(_pid, out status, LibC.WNOHANG) < 0
            && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }
        FdPoller.Shared.Forget(_pidFd);
        return LibC.ExitCodeFromWaitStatus(status, out _);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Kill(Signals.SIGKILL);
        await _exit.ConfigureAwait(false);
        LibC.close(_pidFd);
        Stdin?.Dispose();
        Stdout.Dispose();
        Stderr?.Dispose();
    }
}
