using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// runc's console socket protocol, as containerd's shim uses it: the test listens on a unix
/// socket, the runtime's init (or exec's) sends the pty master there, and the test drives the
/// container's terminal through it.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ConsoleSocketTests : IAsyncLifetime
{
    private readonly BusyboxBundle _bundle = new();
    private readonly string _runtime = RuntimeBinary.Require();
    private readonly string _id = "tty-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _socketPath;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public ConsoleSocketTests()
    {
        _socketPath = Path.Combine(_bundle.Directory, "console.sock");
        _listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        _listener.Listen(4);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await Run("delete", "--force", _id);
        }
        finally
        {
            _bundle.Dispose();
        }
    }

    private Task<CliResult> Run(params string[] args) => CliRunner.RunAsync(_runtime, ["--root", _bundle.StateRoot, .. args]);

    private Task<CliResult> RunWithFiles(params string[] args) => CliRunner.RunWithFilesAsync(_runtime,
        Path.Combine(_bundle.Directory, "out"), Path.Combine(_bundle.Directory, "err"), ["--root", _bundle.StateRoot, .. args]);

    /// <summary>Accepts the runtime's connection and takes the descriptor it sends.</summary>
    private async Task<(PollableFdStream Master, string Name)> ReceiveMasterAsync(Task<Socket> accepting)
    {
        using var connection = await accepting.WaitAsync(TimeSpan.FromSeconds(30));
        var received = ConsoleSocket.Receive((int)connection.Handle);
        Assert.NotNull(received);
        return (new PollableFdStream(received.Value.Fd, FileAccess.ReadWrite), received.Value.Name);
    }

    [Fact]
    public async Task Create_TerminalWithConsoleSocket_SendsMasterOfTheContainersTerminal()
    {
        _bundle.WriteTerminalConfig(111, 33, "sh", "-c", "tty; stty size; read line; echo got-$line; ls /dev/console; ls -l /proc/self/fd");
        var accepting = _listener.AcceptAsync();

        var create = await RunWithFiles("create", "--bundle", _bundle.Bundle, "--console-socket", _socketPath, _id);
        Assert.True(create.ExitCode == 0, create.ToString());
        var (master, name) = await ReceiveMasterAsync(accepting);
        await using var _ = master;
        var start = await Run("start", _id);
        Assert.True(start.ExitCode == 0, start.ToString());
        // Typed once the shell waits for it, so the terminal's echo comes after the first lines.
        var seen = new StringBuilder();
        await StreamText.ReadUntilAsync(master, seen, "33 111\r\n");
        await master.WriteAsync("hello\n"u8.ToArray());
        var output = seen + await StreamText.ReadToEndAsync(master);

        Assert.Equal(ConsoleSocket.MasterName, name);
        // The container's own devpts instance: its first terminal, whatever the host has open.
        Assert.StartsWith("/dev/pts/0\r\n", output);
        Assert.Contains("33 111\r\n", output);
        Assert.Contains("got-hello\r\n", output);
        Assert.Contains("/dev/console\r\n", output);
        AssertOnlyTheTerminalIsOpen(output);
    }

    /// <summary>
    /// From `ls -l /proc/self/fd`: 0-2 are the terminal and nothing of the runtime leaked (the
    /// console socket, the master, the slave's first descriptor); any other is ls's own directory.
    /// </summary>
    private static void AssertOnlyTheTerminalIsOpen(string output)
    {
        var fds = output.Split("\r\n")
            .Where(line => line.Contains(" -> ", StringComparison.Ordinal))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^3..])
            .ToDictionary(parts => int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts => parts[2]);
        Assert.Equal("/dev/pts/0", fds[0]);
        Assert.Equal("/dev/pts/0", fds[1]);
        Assert.Equal("/dev/pts/0", fds[2]);
        Assert.All(fds.Where(fd => fd.Key > 2), fd => Assert.StartsWith("/proc/", fd.Value));
    }

    [Fact]
    public async Task Exec_ProcessWithTerminal_SendsMasterAndRunsOnIt()
    {
        _bundle.WriteConfig("sleep", "600");
        var run = await RunWithFiles("run", "--detach", "--bundle", _bundle.Bundle, _id);
        Assert.True(run.ExitCode == 0, run.ToString());
        var process = new ProcessSpec
        {
            Terminal = true,
            ConsoleSize = new ConsoleSizeSpec { Width = 77, Height = 22 },
            Args = ["sh", "-c", "tty; stty size; read line; echo got-$line; hostname; ls -l /proc/self/fd"],
            Env = ["PATH=/bin"],
            Cwd = "/",
            User = new UserSpec(),
        };
        var processFile = Path.Combine(_bundle.Directory, "process.json");
        await File.WriteAllBytesAsync(processFile, JsonSerializer.SerializeToUtf8Bytes(process, OciJsonContext.Default.ProcessSpec));
        var accepting = _listener.AcceptAsync();

        var exec = await RunWithFiles("exec", "--detach", "--console-socket", _socketPath, "--process", processFile, _id);
        Assert.True(exec.ExitCode == 0, exec.ToString());
        var (master, _) = await ReceiveMasterAsync(accepting);
        await using var __ = master;
        var seen = new StringBuilder();
        await StreamText.ReadUntilAsync(master, seen, "22 77\r\n");
        await master.WriteAsync("there\n"u8.ToArray());
        var output = seen + await StreamText.ReadToEndAsync(master);

        Assert.StartsWith("/dev/pts/0\r\n", output);
        Assert.Contains("22 77\r\n", output);
        Assert.Contains("got-there\r\n", output);
        Assert.Contains(BusyboxBundle.Hostname + "\r\n", output);
        AssertOnlyTheTerminalIsOpen(output);
    }

    [Fact]
    public async Task Exec_TtyFlagWithCommand_PassesTheCommandsOwnFlagsThrough()
    {
        // `exec -t ID sh -c CMD`: -c belongs to sh, not to exec (runc stops parsing at the ID).
        _bundle.WriteConfig("sleep", "600");
        Assert.Equal(0, (await RunWithFiles("run", "-d", "--bundle", _bundle.Bundle, _id)).ExitCode);
        var accepting = _listener.AcceptAsync();

        var exec = await RunWithFiles("exec", "-t", "-d", "--console-socket", _socketPath, _id, "sh", "-c", "echo through-$((6*7))");
        Assert.True(exec.ExitCode == 0, exec.ToString());
        var (master, _) = await ReceiveMasterAsync(accepting);
        await using var _ = master;

        Assert.Equal("through-42\r\n", await StreamText.ReadToEndAsync(master));
    }

    [Fact]
    public async Task Create_TerminalWithoutConsoleSocket_RefusesLikeRuncAndLeavesNothing()
    {
        _bundle.WriteTerminalConfig(80, 24, "sh");

        var create = await RunWithFiles("create", "--bundle", _bundle.Bundle, _id);

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("cannot allocate tty if runc will detach without setting console socket", create.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
    }

    [Fact]
    public async Task Create_ConsoleSocketWithoutTerminal_RefusesLikeRuncAndLeavesNothing()
    {
        _bundle.WriteConfig("sh");

        var create = await RunWithFiles("create", "--bundle", _bundle.Bundle, "--console-socket", _socketPath, _id);

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("cannot use console socket if runc will not detach or allocate tty", create.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
    }

    [Fact]
    public async Task Exec_ConsoleSocketWithoutTty_RefusesLikeRunc()
    {
        _bundle.WriteConfig("sleep", "600");
        Assert.Equal(0, (await RunWithFiles("run", "-d", "--bundle", _bundle.Bundle, _id)).ExitCode);

        var exec = await RunWithFiles("exec", "-d", "--console-socket", _socketPath, _id, "true");

        Assert.Equal(1, exec.ExitCode);
        Assert.Contains("cannot use console socket if runc will not detach or allocate tty", exec.Stderr);
    }
}
