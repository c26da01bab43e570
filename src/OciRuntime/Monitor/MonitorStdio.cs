using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The container's standard streams as its monitor sets them up: pipes for stdout and stderr
/// (and stdin when asked for, else /dev/null), or with process.terminal a socketpair over
/// which the init sends its pty master. The monitor keeps the reading ends and the input.
/// </summary>
internal sealed class MonitorStdio
{
    private readonly List<int> _containerEnds;
    private readonly bool _stdin;
    private int _consoleSocket;
    private int _stdinWrite;

    private MonitorStdio(InitStdio forInit, List<int> containerEnds, bool stdin, int consoleSocket, int stdoutRead, int stderrRead, int stdinWrite)
    {
        ForInit = forInit;
        _containerEnds = containerEnds;
        _stdin = stdin;
        _consoleSocket = consoleSocket;
        StdoutRead = stdoutRead;
        StderrRead = stderrRead;
        _stdinWrite = stdinWrite;
    }

    /// <summary>What the init inherits.</summary>
    public InitStdio ForInit { get; }

    /// <summary>The container's output (with a terminal, the pty master), for the monitor to read.</summary>
    public int StdoutRead { get; private set; }

    /// <summary>The container's error output; -1 with a terminal.</summary>
    public int StderrRead { get; }

    public static MonitorStdio Open(bool terminal, bool stdin)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        if (terminal)
        {
            var (local, remote) = ConsoleSocket.CreatePair();
            return new MonitorStdio(new InitStdio(devNull, devNull, devNull, remote), [devNull, remote], stdin, local, -1, -1, -1);
        }
        var (stdoutRead, stdoutWrite) = ContainerRuntime.CreatePipe();
        var (stderrRead, stderrWrite) = ContainerRuntime.CreatePipe();
        if (!stdin)
        {
            return new MonitorStdio(new InitStdio(devNull, stdoutWrite, stderrWrite), [devNull, stdoutWrite, stderrWrite], stdin, -1, stdoutRead, stderrRead, -1);
        }
        var (stdinRead, stdinWrite) = ContainerRuntime.CreatePipe();
        return new MonitorStdio(new InitStdio(stdinRead, stdoutWrite, stderrWrite), [devNull, stdinRead, stdoutWrite, stderrWrite], stdin, -1, stdoutRead, stderrRead, stdinWrite);
    }

    /// <summary>
    /// Once the init exists: closes the container's ends here (so its output reaches end of
    /// file when it exits) and, with a terminal, receives the master the init sent.
    /// </summary>
    /// <returns>The descriptor the container's input goes to (see <see cref="ContainerInput"/>); -1 for none.</returns>
    public int TakeOver()
    {
        CloseContainerEnds();
        if (_consoleSocket < 0)
        {
            var input = _stdinWrite;
            _stdinWrite = -1;
            return input;
        }
        var master = ConsoleSocket.Receive(_consoleSocket)?.Fd
            ?? throw new Core.UnavailableException("the container's init did not send its terminal");
        LibC.close(_consoleSocket);
        _consoleSocket = -1;
        StdoutRead = master;
        // Input and resizes go through a descriptor of their own: the output pump closes the master when the container is gone.
        return Errno.Check(LibC.fcntl(master, LibC.F_DUPFD_CLOEXEC, 0), "fcntl F_DUPFD_CLOEXEC", "pty master");
    }

    /// <summary>After a failed create: every descriptor still held.</summary>
    public void CloseAll()
    {
        CloseContainerEnds();
        foreach (var fd in new[] { _consoleSocket, StdoutRead, StderrRead, _stdinWrite }.Where(fd => fd >= 0))
        {
            LibC.close(fd);
        }
    }

    private void CloseContainerEnds()
    {
        foreach (var fd in _containerEnds)
        {
            LibC.close(fd);
        }
        _containerEnds.Clear();
    }
}
