using CriOci.TestSupport;

namespace CriOci.E2E;

public sealed class CommandRunnerTests
{
    [Fact]
    public async Task RunAsync_ZeroExit_ReturnsStdoutVerbatim()
    {
        var result = await CommandRunner.RunAsync("/bin/sh", ["-c", "printf '%s' \"$1\"", "sh", "a b 'c'"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a b 'c'", result.StandardOutput);
    }

    [Fact]
    public async Task RunAsync_NonZeroExit_ThrowsWithCommandLineAndStderr()
    {
        var ex = await Assert.ThrowsAsync<CommandFailedException>(
            () => CommandRunner.RunAsync("/bin/sh", ["-c", "echo boom >&2; exit 3"]));

        Assert.Equal(3, ex.Result.ExitCode);
        Assert.Contains("/bin/sh -c 'echo boom >&2; exit 3'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("boom", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunUncheckedAsync_NonZeroExit_ReturnsExitCode()
    {
        var result = await CommandRunner.RunUncheckedAsync("/bin/sh", ["-c", "exit 7"]);

        Assert.Equal(7, result.ExitCode);
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task RunAsync_Timeout_KillsAndThrows()
    {
        var ex = await Assert.ThrowsAsync<CommandFailedException>(
            () => CommandRunner.RunAsync("/bin/sleep", ["30"], TimeSpan.FromMilliseconds(300)));

        Assert.Contains("timed out", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_MissingProgram_ThrowsMissingTestDependency()
    {
        var ex = await Assert.ThrowsAsync<MissingTestDependencyException>(
            () => CommandRunner.RunAsync("/nonexistent/crioci-tool", []));

        Assert.Contains("install-test-deps.sh", ex.Message, StringComparison.Ordinal);
    }
}
