using System.Globalization;
using System.Text.Json;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// Real containers through the published crioci-runtime, driven the way containerd-shim or
/// a person drives runc: create, state, start, kill, delete.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class CliAppTests : IAsyncLifetime
{
    private readonly BusyboxBundle _bundle = new();
    private readonly string _runtime = RuntimeBinary.Require();
    private readonly string _id = "cli-" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Through the runtime first; BusyboxBundle then kills by PID whatever is left.
        try
        {
            await CliRunner.RunAsync(_runtime, "--root", _bundle.StateRoot, "delete", "--force", _id);
        }
        finally
        {
            _bundle.Dispose();
        }
    }

    private Task<CliResult> Run(params string[] args) => CliRunner.RunAsync(_runtime, ["--root", _bundle.StateRoot, .. args]);

    private Task<CliResult> Create(string stdoutFile, string stderrFile) =>
        CliRunner.RunWithFilesAsync(_runtime, stdoutFile, stderrFile, "--root", _bundle.StateRoot, "create", "--bundle", _bundle.Bundle, _id);

    private async Task<JsonElement> StateAsync()
    {
        var result = await Run("state", _id);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    private async Task<JsonElement> WaitForStatusAsync(string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var state = await StateAsync();
            if (state.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
            {
                return state;
            }
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("-v")]
    [InlineData("version")]
    public async Task Version_AsRuncTakesIt_PrintsVersionAndSpecAndExitsZero(string flag)
    {
        var result = await CliRunner.RunAsync(_runtime, flag);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("crioci-runtime version ", result.Stdout);
        Assert.Contains($"spec: {SpecDefaults.OciVersion}", result.Stdout);
    }

    [Fact]
    public async Task Lifecycle_BusyboxContainer_CreatesRunsAndDeletes()
    {
        // Arrange
        _bundle.WriteConfig("sh", "-c", "hostname; id; cat /proc/self/status");
        var stdoutFile = Path.Combine(_bundle.Directory, "container.out");
        var stderrFile = Path.Combine(_bundle.Directory, "container.err");

        // Act: create
        var created = await Create(stdoutFile, stderrFile);
        Assert.True(created.ExitCode == 0, created.ToString());
        var afterCreate = await StateAsync();

        // Act: start and wait for the process to finish
        var started = await Run("start", _id);
        Assert.True(started.ExitCode == 0, started.ToString());
        var afterExit = await WaitForStatusAsync("stopped");
        var output = await File.ReadAllTextAsync(stdoutFile);
        var hostMounts = _bundle.HostMountsUnderDirectory();

        // Act: delete
        var deleted = await Run("delete", _id);
        var afterDelete = await Run("state", _id);

        // Assert
        Assert.Equal("created", afterCreate.GetProperty("status").GetString());
        Assert.True(afterCreate.GetProperty("pid").GetInt32() > 0);
        Assert.Equal(_id, afterCreate.GetProperty("id").GetString());
        Assert.Equal(_bundle.Bundle, afterCreate.GetProperty("bundle").GetString());
        Assert.Equal(SpecDefaults.OciVersion, afterCreate.GetProperty("ociVersion").GetString());

        var lines = output.Split('\n');
        Assert.Equal(BusyboxBundle.Hostname, lines[0]);
        Assert.StartsWith("uid=0", lines[1]);
        Assert.Contains("gid=0", lines[1]);
        // The process holds exactly the configured capabilities (those the host allows).
        var capEff = lines.Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        var expectedCaps = Capabilities.Mask(SpecDefaults.Capabilities) & Capabilities.BoundingSet();
        Assert.Equal(expectedCaps, ulong.Parse(capEff, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        Assert.Contains(lines, l => l.StartsWith("NoNewPrivs:", StringComparison.Ordinal) && l.EndsWith('1'));

        Assert.Equal("stopped", afterExit.GetProperty("status").GetString());
        Assert.Empty(hostMounts);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(1, afterDelete.ExitCode);
        Assert.Contains("does not exist", afterDelete.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
    }

    [Theory]
    [InlineData("no-such-binary", "\"no-such-binary\": executable file not found in $PATH")]
    [InlineData("/bin/no-such-binary", "/bin/no-such-binary: no such executable file")]
    public async Task Create_BinaryNotFound_FailsNamingItAndLeavesNoState(string binary, string message)
    {
        _bundle.WriteConfig(binary, "arg");
        var stdoutFile = Path.Combine(_bundle.Directory, "create.out");
        var stderrFile = Path.Combine(_bundle.Directory, "create.err");

        var created = await Create(stdoutFile, stderrFile);

        Assert.Equal(1, created.ExitCode);
        Assert.Contains(message, created.Stderr);
        Assert.StartsWith("crioci-runtime: ", created.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)), "state directory left behind");
    }

    [Fact]
    public async Task Start_Twice_SecondFails()
    {
        _bundle.WriteConfig("sleep", "60");
        var created = await Create(Path.Combine(_bundle.Directory, "out"), Path.Combine(_bundle.Directory, "err"));
        Assert.True(created.ExitCode == 0, created.ToString());

        var first = await Run("start", _id);
        var second = await Run("start", _id);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("not created", second.Stderr);
        Assert.Equal("running", (await StateAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Kill_SleepingContainer_StopsIt()
    {
        _bundle.WriteConfig("sleep", "600");
        var created = await Create(Path.Combine(_bundle.Directory, "out"), Path.Combine(_bundle.Directory, "err"));
        Assert.True(created.ExitCode == 0, created.ToString());
        var started = await Run("start", _id);
        Assert.True(started.ExitCode == 0, started.ToString());
        var running = await StateAsync();

        var killed = await Run("kill", _id, "KILL");
        var after = await WaitForStatusAsync("stopped");
        var killAgain = await Run("kill", _id, "KILL");

        Assert.Equal("running", running.GetProperty("status").GetString());
        Assert.True(killed.ExitCode == 0, killed.ToString());
        Assert.Equal("stopped", after.GetProperty("status").GetString());
        Assert.Equal(0, after.GetProperty("pid").GetInt32());
        Assert.Equal(1, killAgain.ExitCode);
        Assert.Contains("not running", killAgain.Stderr);
    }

    [Fact]
    public async Task Delete_RunningWithoutForce_RefusesThenForceKills()
    {
        _bundle.WriteConfig("sleep", "600");
        var created = await Create(Path.Combine(_bundle.Directory, "out"), Path.Combine(_bundle.Directory, "err"));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True((await Run("start", _id)).ExitCode == 0);
        var init = new CriOci.OciRuntime.State.StateDirectory(_bundle.StateRoot, _id).ReadState()!;

        var refused = await Run("delete", _id);
        var forced = await Run("delete", "--force", _id);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr);
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
        Assert.False(ProcStat.IsSameLiveProcess(init.InitPid, init.InitStartTime), "the container's init survived delete --force");
    }

    [Theory]
    [InlineData("BOGUS")]
    [InlineData("SIGRTMINX")]
    public async Task Kill_UnknownSignalName_ExitsOneWithMessage(string signal)
    {
        // runc prints the error and exits 1; an unhandled exception aborts with 134 and a stack trace.
        var result = await Run("kill", _id, signal);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"unknown signal {signal}", result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
    }

    [Fact]
    public async Task State_UnknownContainer_ExitsOne()
    {
        var result = await Run("state", "never-created");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("crioci-runtime: container never-created does not exist\n", result.Stderr);
    }
}
