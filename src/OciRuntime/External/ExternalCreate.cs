using System.Globalization;
using System.Net.Sockets;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.External;

/// <summary>
/// The monitor's create step for an external binary, in place of <see cref="ContainerLauncher.Create"/>:
/// runs `binary create` with the container's stdio, so the binary passes those descriptors on
/// to the container's process and exits. The monitor is a child subreaper, so that process,
/// orphaned by the binary's exit, becomes the monitor's child, which reaps it and records its
/// exit exactly as for the embedded runtime (containerd's shim does the same).
/// </summary>
public static class ExternalCreate
{
    /// <param name="spec">The bundle's config.json, as the monitor has read it.</param>
    public static ContainerStateFile Create(ExternalBinary binary, string stateRoot, string id, string bundle, Spec.RuntimeSpec spec, InitStdio stdio)
    {
        ContainerId.Validate(id);
        bundle = Path.GetFullPath(bundle);
        var state = new StateDirectory(stateRoot, id);
        if (state.Exists)
        {
            throw new Core.AlreadyExistsException($"container {id} already exists");
        }
        Directory.CreateDirectory(state.Path);
        Directory.CreateDirectory(binary.Root);
        var created = false;
        try
        {
            var result = CreateWithBinary(binary, spec, state, bundle, stdio);
            created = true;
            return result;
        }
        finally
        {
            if (!created)
            {
                ExternalCommand.Run(binary.Command("delete", "--force", id));
                Directory.Delete(state.Path, recursive: true);
            }
        }
    }

    private static ContainerStateFile CreateWithBinary(ExternalBinary binary, Spec.RuntimeSpec spec, StateDirectory state, string bundle, InitStdio stdio)
    {
        var pidFile = Path.Combine(state.Path, "init.pid");
        var logFile = Path.Combine(state.Path, "runtime.log");
        // --log keeps the binary's error text out of the container's stderr pipe (runc and crun
        // also print fatal errors to stderr; on failure that pipe is discarded anyway).
        List<string> args = ["--log", logFile, "create", "--bundle", bundle, "--pid-file", pidFile];
        var terminal = stdio.ConsoleSocket >= 0;
        using var consoleListener = terminal ? ListenForConsole(state) : null;
        if (consoleListener is not null)
        {
            args.AddRange(["--console-socket", consoleListener.Path]);
        }
        args.Add(state.Id);
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        int pid;
        try
        {
            // Without a terminal the binary hands its own stdio to the container's process.
            int[] fds = terminal ? [devNull, devNull, devNull] : [stdio.Stdin, stdio.Stdout, stdio.Stderr];
            var argv = binary.Command(args);
            pid = ProcessSpawner.Spawn(new SpawnRequest(argv[0], argv, ["PATH=" + Spec.SpecDefaults.DefaultPath], fds));
        }
        finally
        {
            LibC.close(devNull);
        }
        int status;
        while (LibC.waitpid(pid, out status, 0) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }
        var exitCode = LibC.ExitCodeFromWaitStatus(status, out _);
        if (exitCode != 0)
        {
            throw new ContainerCannotRunException($"{binary.Path} create exited with {exitCode}: {LogTail(logFile)}");
        }
        if (consoleListener is not null)
        {
            ForwardTerminal(consoleListener, stdio.ConsoleSocket, binary.Path);
        }
        var initPid = int.Parse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        var self = Environment.ProcessId;
        var stateFile = new ContainerStateFile(state.Id, bundle, initPid, ProcStat.StartTime(initPid) ?? 0, DateTimeOffset.UtcNow, spec.Annotations,
            MonitorPid: self, MonitorStartTime: ProcStat.StartTime(self) ?? 0,
            CgroupPath: Cgroups.CgroupManager.PathFor(spec, state.Id));
        state.WriteState(stateFile);
        return stateFile;
    }

    /// <summary>The last lines the binary logged: its reason for failing (runc and crun both write "level=error" lines there).</summary>
    private static string LogTail(string logFile)
    {
        try
        {
            var lines = File.ReadAllLines(logFile).Where(line => line.Length > 0).TakeLast(3);
            return string.Join(" | ", lines) is { Length: > 0 } text ? text : "no log output";
        }
        catch (IOException)
        {
            return "no log output";
        }
    }

    /// <summary>
    /// The binary takes a console socket by path (runc's --console-socket). The path must fit a
    /// sockaddr_un for the binary to connect, so it sits beside the state directories (the
    /// container's own directory may be too deep), named by the container ID's prefix.
    /// </summary>
    private static ConsoleListener ListenForConsole(StateDirectory state)
    {
        var path = Path.Combine(Path.GetDirectoryName(state.Root) ?? state.Root, $"console-{state.Id[..Math.Min(12, state.Id.Length)]}-{Environment.ProcessId}.sock");
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(1);
            return new ConsoleListener(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The binary connected and sent the pty master before it exited (the connection waited in
    /// the backlog); pass the master on over the monitor's own socketpair, where
    /// <c>MonitorStdio.TakeOver</c> receives it as it does from the embedded init.
    /// </summary>
    private static void ForwardTerminal(ConsoleListener listener, int monitorSocket, string binaryPath)
    {
        listener.Socket.Blocking = false;
        Socket connection;
        try
        {
            connection = listener.Socket.Accept();
        }
        catch (SocketException exception)
        {
            throw new ContainerCannotRunException($"{binaryPath} did not send the container's terminal: {exception.Message}");
        }
        using (connection)
        {
            connection.Blocking = true;
            var received = ConsoleSocket.Receive((int)connection.Handle)
                ?? throw new ContainerCannotRunException($"{binaryPath} did not send the container's terminal");
            try
            {
                ConsoleSocket.Send(monitorSocket, received.Name, received.Fd);
            }
            finally
            {
                LibC.close(received.Fd);
            }
        }
    }

    private sealed class ConsoleListener(Socket socket, string path) : IDisposable
    {
        public Socket Socket { get; } = socket;
        public string Path { get; } = path;

        public void Dispose()
        {
            Socket.Dispose();
            File.Delete(Path);
        }
    }
}
