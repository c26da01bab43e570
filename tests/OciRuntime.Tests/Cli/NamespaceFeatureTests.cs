using System.Globalization;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>Time and cgroup namespaces, checked from inside real containers.</summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class NamespaceFeatureTests : IAsyncLifetime
{
    private readonly CliContainer _container = new("ns");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    private static double Uptime(string procUptime) => double.Parse(procUptime.Split(' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public async Task TimeNamespace_BoottimeOffset_ShiftsUptimeInside()
    {
        const long Offset = 10L * 365 * 86400;
        var spec = _container.Bundle.WriteConfig("cat", "/proc/uptime");
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "time" }],
                TimeOffsets = new Dictionary<string, TimeOffsetSpec>
                {
                    ["boottime"] = new() { Secs = Offset },
                    ["monotonic"] = new() { Secs = Offset },
                },
            },
        };

        var before = Uptime(File.ReadAllText("/proc/uptime"));
        var (result, output) = await _container.RunAsync(spec);
        var after = Uptime(File.ReadAllText("/proc/uptime"));

        Assert.True(result.ExitCode == 0, result + output);
        var inside = Uptime(output);
        // The container's uptime was read between the two host readings, each moved by the offset.
        Assert.InRange(inside, before + Offset, after + Offset + 0.01);
    }

    [Fact]
    public async Task TimeNamespace_ExecJoinsIt_SeesTheOffsetsOfTheContainersNamespace()
    {
        const long Offset = 10L * 365 * 86400;
        var spec = _container.Bundle.WriteConfig("sleep", "30");
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "time" }],
                TimeOffsets = new Dictionary<string, TimeOffsetSpec>
                {
                    ["monotonic"] = new() { Secs = Offset, Nanosecs = 500 },
                    ["boottime"] = new() { Secs = Offset },
                },
            },
        };
        var initPid = await _container.CreateAsync(spec);
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        await _container.WaitForStatusAsync("running");

        var before = Uptime(File.ReadAllText("/proc/uptime"));
        var result = await _container.ExecAsync(_container.Id, "sh", "-c",
            "cat /proc/self/timens_offsets; echo ns $(readlink /proc/self/ns/time); echo uptime $(cat /proc/uptime)");
        var after = Uptime(File.ReadAllText("/proc/uptime"));

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Contains(lines, fields => fields is ["monotonic", var secs, "500"] && secs == Offset.ToString(CultureInfo.InvariantCulture));
        Assert.Contains(lines, fields => fields is ["boottime", var secs, "0"] && secs == Offset.ToString(CultureInfo.InvariantCulture));
        // The very namespace of the container's init, not a copy with the same offsets.
        var initNamespace = new FileInfo($"/proc/{initPid}/ns/time").LinkTarget;
        Assert.NotEqual(new FileInfo("/proc/self/ns/time").LinkTarget, initNamespace);
        Assert.Contains(lines, fields => fields is ["ns", var ns] && ns == initNamespace);
        var inside = Uptime(lines.Single(fields => fields[0] == "uptime")[1]);
        Assert.InRange(inside, before + Offset, after + Offset + 0.01);
    }

    [Fact]
    public async Task TimeOffsets_WithoutTimeNamespace_FailsClearly()
    {
        var spec = _container.Bundle.WriteConfig("true");
        spec = spec with { Linux = spec.Linux! with { TimeOffsets = new Dictionary<string, TimeOffsetSpec> { ["boottime"] = new() { Secs = 5 } } } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("linux.timeOffsets needs a new time namespace", output);
    }

    [Fact]
    public async Task CgroupNamespace_ProcSelfCgroupShowsRootForEveryHierarchy()
    {
        var spec = _container.Bundle.WriteConfig("cat", "/proc/self/cgroup");
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "cgroup" }],
                CgroupsPath = "/crioci-tests/" + _container.Id,
            },
        };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.EndsWith(":/", line));
    }

    [Fact]
    public async Task CgroupNamespace_ExecJoinsIt_ProcSelfCgroupShowsRoot()
    {
        var spec = _container.Bundle.WriteConfig("sleep", "30");
        spec = spec with
        {
            Linux = spec.Linux! with
            {
                Namespaces = [.. spec.Linux!.Namespaces!, new NamespaceSpec { Type = "cgroup" }],
                CgroupsPath = "/crioci-tests/" + _container.Id,
            },
        };
        await _container.CreateAsync(spec);
        Assert.Equal(0, (await _container.VerbAsync("start", _container.Id)).ExitCode);
        await _container.WaitForStatusAsync("running");

        var result = await _container.ExecAsync(_container.Id, "cat", "/proc/self/cgroup");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.EndsWith(":/", line));
    }

    /// <summary>The control: without a cgroup namespace the container sees where it is in the host's tree.</summary>
    [Fact]
    public async Task NoCgroupNamespace_ProcSelfCgroupShowsTheContainersPath()
    {
        var spec = _container.Bundle.WriteConfig("cat", "/proc/self/cgroup");
        spec = spec with { Linux = spec.Linux! with { CgroupsPath = "/crioci-tests/" + _container.Id } };

        var (result, output) = await _container.RunAsync(spec);

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Contains("memory:/crioci-tests/" + _container.Id, output);
    }
}
