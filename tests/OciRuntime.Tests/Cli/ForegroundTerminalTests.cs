using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// `run` and `exec --tty` in the foreground, as a person types them: the runtime relays
/// between the process's terminal and its own stdio, and passes on the exit code.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ForegroundTerminalTests : IAsyncLifetime
{
    private readonly BusyboxBundle _bundle = new();
    private readonly string _runtime = RuntimeBinary.Require();
    private readonly string _id = "fg-" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
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

    [Fact]
    public async Task Run_TerminalContainerInForeground_RelaysItsTerminalAndExitCode()
    {
        _bundle.WriteTerminalConfig(100, 30, "sh", "-c", "tty; stty size; exit 3");

        var run = await Run("run", "--bundle", _bundle.Bundle, _id);

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Equal("/dev/pts/0\r\n30 100\r\n", run.Stdout);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)), "run did not delete the container after it exited");
    }

    [Fact]
    public async Task Exec_TtyInForeground_RelaysItsTerminalAndExitCode()
    {
        _bundle.WriteConfig("sleep", "600");
        var start = await CliRunner.RunWithFilesAsync(_runtime, Path.Combine(_bundle.Directory, "out"), Path.Combine(_bundle.Directory, "err"),
            "--root", _bundle.StateRoot, "run", "--detach", "--bundle", _bundle.Bundle, _id);
        Assert.True(start.ExitCode == 0, start.ToString());

        var exec = await Run("exec", "--tty", _id, "sh", "-c", "tty; echo on-$(hostname); exit 4");

        Assert.True(exec.ExitCode == 4, exec.ToString());
        Assert.Equal($"/dev/pts/0\r\non-{BusyboxBundle.Hostname}\r\n", exec.Stdout);
    }
}
