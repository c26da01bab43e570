using System.Text;
using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// Attach through the container's monitor (kubectl attach, kubectl run -i): input, output to
/// every client and to the CRI log, terminals and their size, stdin-once, and clients that
/// misbehave without hurting the container.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class AttachTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly BusyboxBundle _bundle = new();
    private readonly ContainerRuntime _runtime;
    private readonly string _id = "attach-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _logPath;

    public AttachTests()
    {
        _runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), _bundle.StateRoot));
        _logPath = Path.Combine(_bundle.Directory, "logs", "0.log");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _runtime.DeleteAsync(_id, CancellationToken.None);
        await Task.Delay(100); // the monitor writes exit.json as the directory goes
        _runtime.Dispose();
        _bundle.Dispose();
    }

    private async Task<int> CreateAsync(bool stdin, bool stdinOnce) =>
        await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, new MonitorIo(stdin, stdinOnce), CancellationToken.None);

    /// <summary>Reads output until <paramref name="expected"/> was seen on stdout, or the session ended.</summary>
    private static async Task<string> ReadStdoutUntilAsync(AttachConnection connection, StringBuilder seen, string expected)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal)
            && await connection.ReadOutputAsync(timeout.Token) is { } output)
        {
            if (output.Stream == AttachStream.Stdout)
            {
                seen.Append(Encoding.UTF8.GetString(output.Data.Span));
            }
        }
        return seen.ToString();
    }

    private async Task<string[]> LogMessagesAsync(string stream)
    {
        Assert.True(await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None));
        await WaitForExitFileAsync();
        return (await File.ReadAllLinesAsync(_logPath))
            .Select(line => line.Split(' ', 4))
            .Where(parts => parts[1] == stream)
            .Select(parts => parts[3])
            .ToArray();
    }

    private async Task WaitForExitFileAsync()
    {
        var exitFile = new StateDirectory(_bundle.StateRoot, _id).ExitFile;
        var deadline = DateTime.UtcNow + Patience;
        while (!File.Exists(exitFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Attach_ContainerWithStdin_InputReachesItAndOutputReachesClientAndLog()
    {
        _bundle.WriteConfig("sh", "-c", "while read line; do echo got-$line; echo err-$line >&2; done; echo input-ended");
        await CreateAsync(stdin: true, stdinOnce: false);
        await _runtime.StartAsync(_id, CancellationToken.None);
        await using var connection = await _runtime.AttachAsync(_id, CancellationToken.None);

        await connection.WriteStdinAsync("one\n"u8.ToArray(), CancellationToken.None);
        var seen = new StringBuilder();
        await ReadStdoutUntilAsync(connection, seen, "got-one\n");
        await connection.WriteStdinAsync("two\n"u8.ToArray(), CancellationToken.None);
        await connection.CloseStdinAsync(CancellationToken.None);
        var all = await ReadStdoutUntilAsync(connection, seen, "\0end\0");

        Assert.Equal("got-one\ngot-two\ninput-ended\n", all);
        Assert.Equal(0, connection.ExitCode);
        Assert.Equal(["got-one", "got-two", "input-ended"], await LogMessagesAsync("stdout"));
        Assert.Equal(["err-one", "err-two"], await LogMessagesAsync("stderr"));
    }

    [Fact]
    public async Task Attach_TwoClients_BothReceiveTheOutput()
    {
        _bundle.WriteConfig("sh", "-c", "while read line; do echo got-$line; done");
        await CreateAsync(stdin: true, stdinOnce: false);
        await _runtime.StartAsync(_id, CancellationToken.None);
        await using var first = await _runtime.AttachAsync(_id, CancellationToken.None);
        await using var second = await _runtime.AttachAsync(_id, CancellationToken.None);

        await first.WriteStdinAsync("from-first\n"u8.ToArray(), CancellationToken.None);
        var seenByFirst = await ReadStdoutUntilAsync(first, new StringBuilder(), "got-from-first\n");
        var seenBySecond = await ReadStdoutUntilAsync(second, new StringBuilder(), "got-from-first\n");

        Assert.Equal("got-from-first\n", seenByFirst);
        Assert.Equal("got-from-first\n", seenBySecond);
    }

    [Fact]
    public async Task Attach_StdinOnce_FirstWriterDetaching_ClosesTheContainersInput()
    {
        _bundle.WriteConfig("cat");
        await CreateAsync(stdin: true, stdinOnce: true);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var writer = await _runtime.AttachAsync(_id, CancellationToken.None);
        await writer.WriteStdinAsync("once\n"u8.ToArray(), CancellationToken.None);
        await ReadStdoutUntilAsync(writer, new StringBuilder(), "once\n");

        await writer.DisposeAsync();
        var exited = await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None);
        await WaitForExitFileAsync();

        // cat ends only at end of input: its exit proves the monitor closed the pipe.
        Assert.True(exited, "cat did not see end of input after the stdin-once client left");
        Assert.Equal(0, _runtime.GetState(_id)!.Exit!.ExitCode);
        Assert.Equal(["once"], await LogMessagesAsync("stdout"));
    }

    [Fact]
    public async Task Attach_WithoutStdinOnce_ClientDetaching_LeavesInputOpen()
    {
        _bundle.WriteConfig("cat");
        await CreateAsync(stdin: true, stdinOnce: false);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var writer = await _runtime.AttachAsync(_id, CancellationToken.None);
        await writer.WriteStdinAsync("first\n"u8.ToArray(), CancellationToken.None);
        await ReadStdoutUntilAsync(writer, new StringBuilder(), "first\n");

        await writer.DisposeAsync();
        await using var again = await _runtime.AttachAsync(_id, CancellationToken.None);
        await again.WriteStdinAsync("second\n"u8.ToArray(), CancellationToken.None);
        var seen = await ReadStdoutUntilAsync(again, new StringBuilder(), "second\n");

        Assert.Equal("second\n", seen);
        Assert.Equal(ContainerStatus.Running, _runtime.GetState(_id)!.Status);
    }

    [Fact]
    public async Task Attach_TerminalContainer_OutputAndResizeGoThroughThePty()
    {
        _bundle.WriteTerminalConfig(80, 24, "sh", "-c", "tty; stty size; read line; stty size; echo got-$line");
        await CreateAsync(stdin: true, stdinOnce: false);
        // Attached before start, so nothing the container prints is missed.
        await using var connection = await _runtime.AttachAsync(_id, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        var seen = new StringBuilder();
        await ReadStdoutUntilAsync(connection, seen, "24 80\r\n");
        await connection.ResizeAsync(120, 40, CancellationToken.None);
        await connection.WriteStdinAsync("go\n"u8.ToArray(), CancellationToken.None);
        var all = await ReadStdoutUntilAsync(connection, seen, "\0end\0");

        Assert.True(connection.Terminal);
        Assert.True(connection.Stdin);
        Assert.Equal("/dev/pts/0\r\n24 80\r\ngo\r\n40 120\r\ngot-go\r\n", all);
        Assert.Equal(0, connection.ExitCode);
        // A terminal's output is logged as stdout, one record per line.
        Assert.Equal(["/dev/pts/0", "24 80", "go", "40 120", "got-go"], await LogMessagesAsync("stdout"));
    }

    [Fact]
    public async Task Attach_SlowAndVanishingClients_NeverHoldTheContainerOrTheLogBack()
    {
        // Many small writes: a client that never reads falls behind by far more than the
        // monitor queues for it, and one that disappears mid-stream must not matter either.
        const int lines = 20000;
        _bundle.WriteConfig("sh", "-c", $"i=0; while [ $i -lt {lines} ]; do echo line-$i; i=$((i+1)); done");
        await CreateAsync(stdin: false, stdinOnce: false);
        await using var neverReads = await _runtime.AttachAsync(_id, CancellationToken.None);
        var vanishes = await _runtime.AttachAsync(_id, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        await ReadStdoutUntilAsync(vanishes, new StringBuilder(), "line-10\n");
        await vanishes.DisposeAsync();
        var exited = await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None);

        Assert.True(exited, "the container did not finish while an attach client did not read");
        var logged = await LogMessagesAsync("stdout");
        Assert.Equal(Enumerable.Range(0, lines).Select(i => $"line-{i}"), logged);
    }

    [Fact]
    public async Task Attach_ClientKilledMidSession_ContainerKeepsRunningAndCanBeAttachedAgain()
    {
        _bundle.WriteConfig("sh", "-c", "while read line; do echo got-$line; done");
        await CreateAsync(stdin: true, stdinOnce: false);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var doomed = await _runtime.AttachAsync(_id, CancellationToken.None);
        await doomed.WriteStdinAsync("a\n"u8.ToArray(), CancellationToken.None);

        await doomed.DisposeAsync(); // as if the daemon died: the socket just closes
        await using var again = await _runtime.AttachAsync(_id, CancellationToken.None);
        await again.WriteStdinAsync("b\n"u8.ToArray(), CancellationToken.None);
        var seen = await ReadStdoutUntilAsync(again, new StringBuilder(), "got-b\n");

        Assert.Equal(ContainerStatus.Running, _runtime.GetState(_id)!.Status);
        Assert.EndsWith("got-b\n", seen);
    }

    [Fact]
    public async Task Attach_SocketIsForRootOnly()
    {
        _bundle.WriteConfig("sleep", "600");
        await CreateAsync(stdin: false, stdinOnce: false);

        var mode = File.GetUnixFileMode(new StateDirectory(_bundle.StateRoot, _id).AttachSocketPath);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task Attach_StoppedContainer_ThrowsFailedPrecondition()
    {
        _bundle.WriteConfig("echo", "done");
        await CreateAsync(stdin: false, stdinOnce: false);
        await _runtime.StartAsync(_id, CancellationToken.None);
        Assert.True(await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None));

        await Assert.ThrowsAsync<FailedPreconditionException>(() => _runtime.AttachAsync(_id, CancellationToken.None));
    }

    [Fact]
    public async Task Attach_UnknownContainer_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<NotFoundException>(() => _runtime.AttachAsync("never-created", CancellationToken.None));
    }
}
