using System.Text.Json;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// config.json features checked from inside real containers run with `crioci-runtime run`:
/// hooks at each lifecycle point, seccomp, cgroup limits, pause and resume.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class RuntimeSpecFeatureTests : IDisposable
{
    private readonly BusyboxBundle _bundle = new();
    private readonly string _runtime = RuntimeBinary.Require();
    private readonly string _id = "feature-" + Guid.NewGuid().ToString("N")[..12];

    public void Dispose() => _bundle.Dispose();

    private void Write(RuntimeSpec spec) =>
        File.WriteAllBytes(Path.Combine(_bundle.Bundle, "config.json"), JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.RuntimeSpec));

    private async Task<(CliResult Result, string Stdout)> RunContainerAsync()
    {
        var stdout = Path.Combine(_bundle.Directory, "stdout");
        var stderr = Path.Combine(_bundle.Directory, "stderr");
        var result = await CliRunner.RunWithFilesAsync(_runtime, stdout, stderr, "--root", _bundle.StateRoot, "run", "--bundle", _bundle.Bundle, _id);
        return (result, File.ReadAllText(stdout) + File.ReadAllText(stderr));
    }

    [Fact]
    public async Task Hooks_EveryLifecyclePoint_RunsWithTheStateOnStdin()
    {
        var record = Path.Combine(_bundle.Directory, "hooks");
        Directory.CreateDirectory(record);
        HookSpec Hook(string phase) => new() { Path = "/bin/sh", Args = ["sh", "-c", $"cat > {record}/{phase}.json"] };
        var spec = _bundle.WriteConfig("sh", "-c", "cat /started");
        Write(spec with
        {
            Hooks = new HooksSpec
            {
                CreateRuntime = [Hook("createRuntime")],
                CreateContainer = [Hook("createContainer")],
                // Runs inside the container: its path and effects are the container's.
                StartContainer = [new HookSpec { Path = "/bin/sh", Args = ["sh", "-c", "echo from-start-hook > /started"] }],
                Poststart = [Hook("poststart")],
                Poststop = [new HookSpec { Path = "/bin/sh", Args = ["sh", "-c", $"echo $PHASE > {record}/poststop.txt"], Env = ["PHASE=poststop"] }],
            },
        });

        var (result, output) = await RunContainerAsync();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("from-start-hook", output);
        foreach (var (phase, status) in new[] { ("createRuntime", "creating"), ("createContainer", "created"), ("poststart", "running") })
        {
            using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(record, phase + ".json")));
            Assert.Equal(_id, state.RootElement.GetProperty("id").GetString());
            Assert.Equal(status, state.RootElement.GetProperty("status").GetString());
            Assert.Equal(_bundle.Bundle, state.RootElement.GetProperty("bundle").GetString());
        }
        Assert.Equal("poststop\n", File.ReadAllText(Path.Combine(record, "poststop.txt")));
    }

    [Fact]
    public async Task Hooks_FailingCreateRuntimeHook_DestroysTheContainer()
    {
        var spec = _bundle.WriteConfig("echo", "never printed");
        Write(spec with { Hooks = new HooksSpec { CreateRuntime = [new HookSpec { Path = "/bin/false" }] } });

        var (result, _) = await RunContainerAsync();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("createRuntime hook /bin/false exited with 1", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)), "the state directory of the failed container remains");
    }

    [Fact]
    public async Task Seccomp_ErrnoRule_FailsTheSyscallWithThatErrno()
    {
        var spec = _bundle.WriteConfig("sh", "-c", "grep ^Seccomp: /proc/self/status; echo x > /tmp/file && echo written");
        Write(spec with
        {
            Linux = spec.Linux! with
            {
                Seccomp = new SeccompSpec
                {
                    DefaultAction = "SCMP_ACT_ALLOW",
                    // O_CREAT (0x40) in the flags argument: open has it second, openat third.
                    Syscalls =
                    [
                        new SeccompSyscallSpec { Names = ["open"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13, Args = [new SeccompArgSpec { Index = 1, Value = 0x40, ValueTwo = 0x40, Op = "SCMP_CMP_MASKED_EQ" }] },
                        new SeccompSyscallSpec { Names = ["openat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13, Args = [new SeccompArgSpec { Index = 2, Value = 0x40, ValueTwo = 0x40, Op = "SCMP_CMP_MASKED_EQ" }] },
                        new SeccompSyscallSpec { Names = ["creat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 13 },
                    ],
                },
            },
        });

        var (result, output) = await RunContainerAsync();

        Assert.Contains("Seccomp:\t2", output);
        Assert.Contains("Permission denied", output);
        Assert.DoesNotContain("written", output);
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task Cgroups_MemoryAndPidsLimits_AreVisibleFromInside()
    {
        var spec = _bundle.WriteConfig("sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max");
        Write(spec with
        {
            Mounts = [.. spec.Mounts!, new MountSpec { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["ro", "nosuid", "noexec", "nodev"] }],
            Linux = spec.Linux! with
            {
                CgroupsPath = "/crioci-tests/" + _id,
                Resources = new ResourcesSpec { Memory = new MemorySpec { Limit = 48L << 20 }, Pids = new PidsSpec { Limit = 64 } },
            },
        });

        var (result, output) = await RunContainerAsync();

        Assert.True(result.ExitCode == 0, result + output);
        Assert.Equal($"{48L << 20}\n64\n", output);
        Assert.False(Directory.Exists("/sys/fs/cgroup/memory/crioci-tests/" + _id), "the container's cgroup outlived it");
    }
}
