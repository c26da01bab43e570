using System.Text;
using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// ContainerRuntime.ExecInteractiveAsync against real containers: the streams the daemon's
/// exec sessions (kubectl exec -i/-t) are built on, with pipes or a terminal.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class InteractiveExecTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly BusyboxBundle _bundle = new();
    private readonly ContainerRuntime _runtime;
    private readonly string _id = "iexec-" + Guid.NewGuid().ToString("N")[..12];

    public InteractiveExecTests() =>
        _runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), _bundle.StateRoot));

    public async Task InitializeAsync()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _runtime.DeleteAsync(_id, CancellationToken.None);
        await Task.Delay(100); // the monitor writes exit.json as the directory goes
        _runtime.Dispose();
        _bundle.Dispose();
    }

    private static ProcessSpec Process(params string[] args) => new()
    {
        Args = args,
        Env = ["PATH=/bin"],
        Cwd = "/",
        User = new UserSpec { Uid = 0, Gid = 0 },
    };

    private static async Task<int> ExitAsync(InteractiveProcess process)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await process.WaitForExitAsync(timeout.Token);
    }

    [Fact]
    public async Task ExecInteractive_WithStdin_EchoesInputAndEndsAtEndOfInput()
    {
        await using var process = await _runtime.ExecInteractiveAsync(_id, Process("cat"), stdin: true, CancellationToken.None);

        await process.Stdin!.WriteAsync("ping\n"u8.ToArray());
        var seen = new StringBuilder();
        await StreamText.ReadUntilAsync(process.Stdout, seen, "ping\n");
        process.Stdin.Dispose();
        var rest = await StreamText.ReadToEndAsync(process.Stdout);
        var exitCode = await ExitAsync(process);

        Assert.Equal("ping\n", seen.ToString());
        Assert.Equal("", rest);
        Assert.Equal(0, exitCode);
        Assert.False(process.Terminal);
    }

    [Fact]
    public async Task ExecInteractive_WithoutStdin_SeparatesStreamsAndReportsExitCodeInTheContainer()
    {
        await using var process = await _runtime.ExecInteractiveAsync(_id,
            Process("sh", "-c", "echo out; echo err >&2; hostname; read x || echo no-input; exit 5"), stdin: false, CancellationToken.None);

        var stdout = StreamText.ReadToEndAsync(process.Stdout);
        var stderr = StreamText.ReadToEndAsync(process.Stderr!);
        var exitCode = await ExitAsync(process);

        Assert.Null(process.Stdin);
        Assert.Equal($"out\n{BusyboxBundle.Hostname}\nno-input\n", await stdout);
        Assert.Equal("err\n", await stderr);
        Assert.Equal(5, exitCode);
    }

    [Fact]
    public async Task ExecInteractive_Terminal_RunsOnThePtyAndSeesResize()
    {
        var spec = Process("sh", "-c", "tty; stty size; read line; stty size; echo got-$line") with
        {
            Terminal = true,
            ConsoleSize = new ConsoleSizeSpec { Width = 90, Height = 20 },
        };
        await using var process = await _runtime.ExecInteractiveAsync(_id, spec, stdin: true, CancellationToken.None);

        var seen = new StringBuilder();
        await StreamText.ReadUntilAsync(process.Stdout, seen, "20 90\r\n");
        process.Resize(132, 43);
        await process.Stdin!.WriteAsync("resized\n"u8.ToArray());
        var rest = await StreamText.ReadToEndAsync(process.Stdout);
        var exitCode = await ExitAsync(process);

        Assert.True(process.Terminal);
        Assert.Null(process.Stderr);
        Assert.Equal("/dev/pts/0\r\n20 90\r\n", seen.ToString());
        // The terminal echoes the input, then the command prints the new size.
        Assert.Equal("resized\r\n43 132\r\ngot-resized\r\n", rest);
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task ExecInteractive_Process_InheritsNoDescriptorBeyondItsStdio()
    {
        // The test host holds inheritable descriptors of its own; none may reach the container.
        await using var process = await _runtime.ExecInteractiveAsync(_id, Process("ls", "-l", "/proc/self/fd"), stdin: true, CancellationToken.None);

        var output = await StreamText.ReadToEndAsync(process.Stdout);
        await ExitAsync(process);

        var fds = output.Split('\n')
            .Where(line => line.Contains(" -> ", StringComparison.Ordinal))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^3..])
            .ToDictionary(parts => int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts => parts[2]);
        Assert.All(new[] { 0, 1, 2 }, fd => Assert.StartsWith("pipe:", fds[fd]));
        Assert.All(fds.Where(fd => fd.Key > 2), fd => Assert.StartsWith("/proc/", fd.Value));
    }

    [Fact]
    public async Task Kill_RunningProcess_ExitCodeIs128PlusSignal()
    {
        await using var process = await _runtime.ExecInteractiveAsync(_id, Process("sleep", "600"), stdin: false, CancellationToken.None);

        process.Kill(Signals.SIGTERM);

        Assert.Equal(128 + Signals.SIGTERM, await ExitAsync(process));
    }

    [Fact]
    public async Task DisposeAsync_WhileRunning_KillsAndReapsTheProcess()
    {
        var process = await _runtime.ExecInteractiveAsync(_id, Process("sh", "-c", "echo $PPID; exec sleep 600"), stdin: true, CancellationToken.None);
        var seen = new StringBuilder();
        await StreamText.ReadUntilAsync(process.Stdout, seen, "\n");
        // The shell printed before it exec'd sleep: wait for the exec rather than race it.
        var sleepers = await SleepersInContainerAsync();

        await process.DisposeAsync();

        // The exec'd `sleep 600` is gone and not left as a zombie (its parent, this process, reaped it).
        Assert.Single(sleepers);
        Assert.Empty(SleepersInContainer());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await process.Stdout.ReadAsync(new byte[1]));
    }

    /// <summary>The exec'd sleepers once there is one, or none after 10 s (the assertion then says so).</summary>
    private static async Task<List<int>> SleepersInContainerAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var sleepers = SleepersInContainer();
        while (sleepers.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            sleepers = SleepersInContainer();
        }
        return sleepers;
    }

    /// <summary>Host PIDs of `sleep 600` processes whose parent is this test process (the exec'd ones).</summary>
    private static List<int> SleepersInContainer()
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == self && stat.Contains("(sleep)", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    [Fact]
    public async Task ExecInteractive_BinaryNotFound_ThrowsCannotRunNamingIt()
    {
        var exception = await Assert.ThrowsAsync<ContainerCannotRunException>(
            () => _runtime.ExecInteractiveAsync(_id, Process("no-such-tool") with { Terminal = true }, stdin: true, CancellationToken.None));

        Assert.Contains("no-such-tool", exception.Message);
    }

    [Fact]
    public async Task ExecInteractive_UnknownContainer_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<NotFoundException>(
            () => _runtime.ExecInteractiveAsync("never-created", Process("true"), stdin: false, CancellationToken.None));
    }

    [Fact]
    public async Task ExecInteractive_StoppedContainer_ThrowsFailedPrecondition()
    {
        _runtime.Kill(_id, Signals.SIGKILL);
        Assert.True(await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None));

        await Assert.ThrowsAsync<FailedPreconditionException>(
            () => _runtime.ExecInteractiveAsync(_id, Process("true"), stdin: false, CancellationToken.None));
    }
}
