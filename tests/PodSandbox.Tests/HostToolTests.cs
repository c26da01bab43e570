namespace CriOci.PodSandbox.Tests;

/// <summary>Real processes through the shared host-tool runner: output, exit status, the timeout and cancellation.</summary>
public sealed class HostToolTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(1);
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-host-tool-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task RunAsync_ToolWithInput_ReturnsItsExitStatusAndBothOutputs()
    {
        var result = await HostTool.RunAsync("/bin/sh", ["-c", "tr a-z A-Z; echo warned >&2; exit 4"], "hello\n", Generous, CancellationToken.None);

        Assert.Equal(new HostToolResult(4, "HELLO\n", "warned\n"), result);
    }

    [Fact]
    public async Task RunAsync_Environment_SetOverTheDaemonsOwn()
    {
        var result = await HostTool.RunAsync("/bin/sh", ["-c", "echo \"$CRIOCI_TEST_VALUE:${PATH:+has-path}\""],
            new Dictionary<string, string> { ["CRIOCI_TEST_VALUE"] = "given" }, stdin: null, Generous, CancellationToken.None);

        Assert.Equal("given:has-path\n", result.Stdout);
    }

    [Fact]
    public async Task RunAsync_NoInput_ToolReadsEndOfFile()
    {
        var result = await HostTool.RunAsync("/bin/sh", ["-c", "wc -c"], stdin: null, Generous, CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0", result.Stdout.Trim());
    }

    [Fact]
    public async Task RunAsync_ToolIgnoresItsInput_JudgedByItsExitStatus()
    {
        var result = await HostTool.RunAsync("/bin/sh", ["-c", "exec 0<&-; exit 0"], new string('x', 1 << 20), Generous, CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_Overruns_KilledWithItsChildrenAndSaysSo()
    {
        var childFile = Path.Combine(_directory, "child");

        var error = await Assert.ThrowsAsync<HostToolException>(() => HostTool.RunAsync(
            "/bin/sh", ["-c", $"sleep 600 & echo $! > {childFile}; wait"], stdin: null, TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Contains("/bin/sh did not finish within 0.3 s and was killed", error.Message);
        AssertEnds(int.Parse(File.ReadAllText(childFile)));
    }

    [Fact]
    public async Task RunAsync_CallerGivesUp_CanceledAndToolKilled()
    {
        var pidFile = Path.Combine(_directory, "pid");
        using var giveUp = new CancellationTokenSource();
        var run = HostTool.RunAsync("/bin/sh", ["-c", $"echo $$ > {pidFile}; exec sleep 600"], stdin: null, Generous, giveUp.Token);
        while (!File.Exists(pidFile) || File.ReadAllText(pidFile).Length == 0)
        {
            await Task.Delay(10);
        }

        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        AssertEnds(int.Parse(File.ReadAllText(pidFile)));
    }

    [Fact]
    public async Task RunAsync_NoSuchTool_HostToolExceptionNamingIt()
    {
        var missing = Path.Combine(_directory, "no-such-tool");

        var error = await Assert.ThrowsAsync<HostToolException>(() => HostTool.RunAsync(missing, [], stdin: null, Generous, CancellationToken.None));

        Assert.Contains($"cannot start {missing}", error.Message);
    }

    /// <summary>The process is gone or a zombie about to be reaped by whoever adopted it.</summary>
    private static void AssertEnds(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        for (var attempt = 0; attempt < 500 && File.Exists(stat); attempt++)
        {
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (IOException)
            {
                return;
            }
            if (text[(text.LastIndexOf(')') + 2)..].StartsWith('Z'))
            {
                return;
            }
            Thread.Sleep(20);
        }
        Assert.False(File.Exists(stat), $"process {pid} still runs");
    }
}
