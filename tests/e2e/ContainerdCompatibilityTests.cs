using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// crioci-runtime as the runc binary of containerd's io.containerd.runc.v2 shim: if the shim
/// can run, exec into, pause, measure and kill a container through it, the command line is
/// runc-compatible where it matters.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class ContainerdCompatibilityTests : IAsyncLifetime
{
    private const string Image = "docker.io/library/busybox:crioci-test";
    private ContainerdServer _containerd = null!;

    public async Task InitializeAsync()
    {
        _containerd = await ContainerdServer.StartAsync();
        var layout = await TestImages.EnsureLayoutAsync();
        var archive = Path.Combine(_containerd.Directory, "busybox.tar");
        await CommandRunner.RunAsync(TestDependencies.SkopeoPath, ["copy", $"oci:{layout}:{TestImages.LatestTag}", $"oci-archive:{archive}:{Image}"]);
        await _containerd.CtrAsync("images", "import", archive);
    }

    public async Task DisposeAsync() => await _containerd.DisposeAsync();

    private static string Runtime => RepositoryPaths.Runtime;

    [Fact]
    public async Task Run_ThroughTheRuncShim_PassesOutputAndExitCode()
    {
        var run = await _containerd.CtrUncheckedAsync("run", "--rm", "--runc-binary", Runtime, Image, "once",
            "sh", "-c", "echo hello from containerd; exit 5");

        Assert.Equal(5, run.ExitCode);
        Assert.Equal("hello from containerd\n", run.StandardOutput);
    }

    [Fact]
    public async Task Task_ExecPauseResumeMetricsKill_AllWorkThroughTheShim()
    {
        await _containerd.CtrAsync("run", "-d", "--runc-binary", Runtime, Image, "sleeper", "sleep", "300");

        var exec = await _containerd.CtrUncheckedAsync("task", "exec", "--exec-id", "e1", "sleeper", "sh", "-c", "echo from exec; exit 4");
        Assert.Equal(4, exec.ExitCode);
        Assert.Equal("from exec\n", exec.StandardOutput);

        await _containerd.CtrAsync("task", "pause", "sleeper");
        Assert.Contains("PAUSED", (await _containerd.CtrAsync("task", "ls")).StandardOutput);
        await _containerd.CtrAsync("task", "resume", "sleeper");
        Assert.Contains("RUNNING", (await _containerd.CtrAsync("task", "ls")).StandardOutput);

        var metrics = await _containerd.CtrAsync("task", "metrics", "sleeper");
        Assert.Contains("pids.current", metrics.StandardOutput);

        await _containerd.CtrAsync("task", "kill", "-s", "SIGKILL", "sleeper");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await _containerd.CtrAsync("task", "ls")).StandardOutput.Contains("STOPPED") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Contains("STOPPED", (await _containerd.CtrAsync("task", "ls")).StandardOutput);
        await _containerd.CtrAsync("task", "rm", "sleeper");
        await _containerd.CtrAsync("container", "rm", "sleeper");
    }
}
