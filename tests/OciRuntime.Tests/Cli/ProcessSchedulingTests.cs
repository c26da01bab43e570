using System.Globalization;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>process.scheduler, process.ioPriority and linux.personality, read back from real containers.</summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ProcessSchedulingTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("sched");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    /// <summary>Fields of /proc/PID/stat by their proc(5) numbers (1 is the pid).</summary>
    private static string StatField(string stat, int number) =>
        stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[number - 3];

    [Theory]
    [InlineData("SCHED_BATCH", 7, "3")]
    [InlineData("SCHED_IDLE", 0, "5")]
    [InlineData("SCHED_OTHER", -5, "0")]
    public async Task Scheduler_PolicyAndNice_AreThoseOfTheContainerProcess(string policy, int nice, string policyNumber)
    {
        var spec = _container.Bundle.WriteConfig("sh", "-c", "exec cat /proc/self/stat");
        spec = spec with { Process = spec.Process! with { Scheduler = new SchedulerSpec { Policy = policy, Nice = nice } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Equal(policyNumber, StatField(output.Trim(), 41));
        // SCHED_IDLE ignores nice (it reports 0 whatever was asked).
        Assert.Equal(policy == "SCHED_IDLE" ? "0" : nice.ToString(CultureInfo.InvariantCulture), StatField(output.Trim(), 19));
    }

    [Fact]
    public async Task Scheduler_InvalidPriority_FailsCreateNamingTheField()
    {
        var spec = _container.Bundle.WriteConfig("true");
        spec = spec with { Process = spec.Process! with { Scheduler = new SchedulerSpec { Policy = "SCHED_BATCH", Priority = 10 } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("process.scheduler.priority", output);
    }

    [Theory]
    [InlineData("IOPRIO_CLASS_BE", 6, (2 << 13) | 6)]
    [InlineData("IOPRIO_CLASS_IDLE", 0, 3 << 13)]
    [InlineData("IOPRIO_CLASS_RT", 2, (1 << 13) | 2)]
    public async Task IoPriority_ClassAndLevel_AreThoseOfTheInit(string ioClass, int level, int expected)
    {
        var spec = _container.Bundle.WriteConfig("sleep", "30");
        spec = spec with { Process = spec.Process! with { IoPriority = new IoPrioritySpec { Class = ioClass, Priority = level } } };

        var pid = await _container.CreateAsync(spec);
        var created = ioprio_get(IOPRIO_WHO_PROCESS, pid);
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        await _container.WaitForStatusAsync("running");
        var running = ioprio_get(IOPRIO_WHO_PROCESS, pid);

        Assert.Equal(expected, created);
        // execve keeps it: the user's program runs with it.
        Assert.Equal(expected, running);
    }

    [Fact]
    public async Task Personality_Linux32_UnameReportsA32BitMachine()
    {
        var spec = _container.Bundle.WriteConfig("sh", "-c", "uname -m; cat /proc/self/personality");
        spec = spec with { Linux = spec.Linux! with { Personality = new PersonalitySpec { Domain = "LINUX32" } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Equal(["i686", "00000008"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Personality_Linux_LeavesTheHostMachine()
    {
        var spec = _container.Bundle.WriteConfig("uname", "-m");
        spec = spec with { Linux = spec.Linux! with { Personality = new PersonalitySpec { Domain = "LINUX" } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var host = await CliRunner.RunAsync("/bin/uname", "-m");
        Assert.Equal(host.Stdout, output);
    }
}
