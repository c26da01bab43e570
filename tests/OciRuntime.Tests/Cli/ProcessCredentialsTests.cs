using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// process.user read back from /proc/self/status of real container processes: the init and
/// exec switch only the execing thread's credentials (raw setgroups/setresgid/setresuid), and
/// the program they become must carry them in every id (real, effective, saved, filesystem).
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ProcessCredentialsTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("creds");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    private static string StatusLine(string status, string key) =>
        Assert.Single(status.Split('\n'), line => line.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();

    [Fact]
    public async Task User_UidGidAndAdditionalGids_AreThoseOfTheContainerProcess()
    {
        var spec = _container.Bundle.WriteConfig("cat", "/proc/self/status");
        spec = spec with { Process = spec.Process! with { User = new UserSpec { Uid = 1000, Gid = 1001, AdditionalGids = [3, 4] } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Equal("1000\t1000\t1000\t1000", StatusLine(output, "Uid"));
        Assert.Equal("1001\t1001\t1001\t1001", StatusLine(output, "Gid"));
        Assert.Equal("3 4", StatusLine(output, "Groups"));
    }

    [Fact]
    public async Task CreateThenStart_OfANonRootProcess_ReleasesTheInitThroughTheExecFifo()
    {
        // The init has switched to the process's user before it opens the exec fifo to wait for
        // `start`, so the fifo must be writable by others whatever the runtime's umask was: with
        // every capability dropped (Kubernetes' `drop: [ALL]`) no CAP_DAC_OVERRIDE hides it.
        var spec = _container.Bundle.WriteConfig("id", "-u");
        spec = spec with
        {
            Process = spec.Process! with
            {
                User = new UserSpec { Uid = 1000, Gid = 1000 },
                Capabilities = new CapabilitiesSpec { Bounding = [], Effective = [], Permitted = [] },
            },
        };
        await _container.CreateAsync(spec);

        var start = await _container.VerbAsync("start", _container.Id);

        Assert.True(start.ExitCode == 0, start.ToString());
        await _container.WaitForStatusAsync("stopped");
        Assert.Equal("1000", File.ReadAllText(_container.StdoutFile).Trim());
    }

    [Fact]
    public async Task Exec_UserFlag_IsTheExecedProcessesUidAndGid()
    {
        var spec = _container.Bundle.WriteConfig("sleep", "30");
        await _container.CreateAsync(spec);
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        await _container.WaitForStatusAsync("running");

        var exec = await _container.ExecAsync("--user", "2000:2001", _container.Id, "cat", "/proc/self/status");

        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("2000\t2000\t2000\t2000", StatusLine(exec.Stdout, "Uid"));
        Assert.Equal("2001\t2001\t2001\t2001", StatusLine(exec.Stdout, "Gid"));
        // No additionalGids in the process: every supplementary group of the runtime is dropped.
        Assert.Equal("", StatusLine(exec.Stdout, "Groups"));
    }
}
