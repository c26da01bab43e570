using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Cli;

/// <summary>
/// runc's foreground terminal (`run` or `exec --tty` without --detach): the process's pty
/// master comes back to us over a socketpair, and we relay between it and our own stdio until
/// the process closes its terminal. Our terminal, if stdin is one, is raw meanwhile, so keys
/// reach the container's line discipline untouched.
/// </summary>
internal sealed unsafe class ForegroundTerminal : IDisposable
{
    private int _local;
    private int _remote;

    private ForegroundTerminal(int local, int remote)
    {
        _local = local;
        _remote = remote;
    }

    /// <summary>The end to hand to the init or exec-init as its console socket.</summary>
    public int ConsoleSocket => _remote;

    public static ForegroundTerminal Open()
    {
        var (local, remote) = Linux.ConsoleSocket.CreatePair();
        return new ForegroundTerminal(local, remote);
    }

    /// <summary>Once the child holds its copy: ours would keep the socket from reporting a child that died without sending.</summary>
    public void CloseChildEnd()
    {
        if (_remote >= 0)
        {
            LibC.close(_remote);
            _remote = -1;
        }
    }

    /// <summary>Relays until the process's side of the terminal is closed.</summary>
    public void Relay()
    {
        CloseChildEnd();
        var master = Linux.ConsoleSocket.Receive(_local)?.Fd ?? throw new CliException("the container did not send its terminal");
        var saved = stackalloc byte[LibC.TermiosSize];
        var interactive = LibC.isatty(0) == 1 && LibC.tcgetattr(0, saved) == 0;
        try
        {
            if (interactive)
            {
                var (width, height) = Pty.GetWindowSize(0);
                Pty.SetWindowSize(master, width, height);
                var raw = stackalloc byte[LibC.TermiosSize];
                new Span<byte>(saved, LibC.TermiosSize).CopyTo(new Span<byte>(raw, LibC.TermiosSize));
                LibC.cfmakeraw(raw);
                LibC.tcsetattr(0, LibC.TCSANOW, raw);
            }
            // Input may block forever on a quiet terminal: a background thread the exit ends.
            new Thread(() => Copy(0, master)) { IsBackground = true, Name = "crioci-tty-in" }.Start();
            Copy(master, 1);
        }
        finally
        {
            if (interactive)
            {
                LibC.tcsetattr(0, LibC.TCSANOW, saved);
            }
            LibC.close(master);
        }
    }

    /// <summary>Copies until end of input (a pty master reports EIO once its slave is closed) or a failed write.</summary>
    private static void Copy(int from, int to)
    {
        var buffer = stackalloc byte[16 * 1024];
        while (true)
        {
            var read = LibC.read(from, buffer, 16 * 1024);
            if (read < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
            {
                continue;
            }
            if (read <= 0)
            {
                return;
            }
            for (nint offset = 0; offset < read;)
            {
                var written = LibC.write(to, buffer + offset, (nuint)(read - offset));
                if (written < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    return;
                }
                offset += written;
            }
        }
    }

    public void Dispose()
    {
        CloseChildEnd();
        if (_local >= 0)
        {
            LibC.close(_local);
            _local = -1;
        }
    }
}
