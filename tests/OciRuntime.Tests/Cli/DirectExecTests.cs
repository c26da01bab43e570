using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cli;

/// <summary>
/// `crioci-runtime exec` of a plain process starts it without exec-init (Launch/DirectExec and
/// crioci_exec_spawn.c, linked into the published runtime): the exec'd process must come out
/// exactly as confined as the container's init, read back from the kernel through /proc.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class DirectExecTests : IAsyncLifetime
{
    private static readonly string[] ConfinementKeys =
        ["Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"];

    private readonly CliContainer _container = new("direct-exec");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _container.DisposeAsync().AsTask();

    private static string StatusLine(string status, string key) =>
        Assert.Single(status.Split('\n'), line => line.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim();

    private string CgroupsPath => "/crioci-tests/" + _container.Id;

    /// <summary>
    /// A sleeping container with supplementary groups, a reduced capability set, an rlimit, a
    /// cgroup and a working directory. Its init stays root: a created init of another user
    /// cannot open the exec fifo yet (ContainerLauncher chmods it to 0622 only when it cannot
    /// name the fifo's owner, so under umask 022 it stays 0600; the user is tested through exec --user).
    /// </summary>
    private async Task<int> StartConfinedAsync(SeccompSpec? seccomp)
    {
        var spec = _container.Bundle.WriteConfig("sleep", "60");
        string[] capabilities = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        spec = spec with
        {
            Process = spec.Process! with
            {
                User = new UserSpec { Uid = 0, Gid = 0, AdditionalGids = [5, 7] },
                Cwd = "/tmp",
                Capabilities = new CapabilitiesSpec { Bounding = capabilities, Effective = capabilities, Permitted = capabilities, Inheritable = ["CAP_KILL"] },
                Rlimits = [new RlimitSpec { Type = "RLIMIT_NOFILE", Soft = 321, Hard = 654 }],
                NoNewPrivileges = true,
            },
            Linux = spec.Linux! with { CgroupsPath = CgroupsPath, Seccomp = seccomp },
        };
        Directory.CreateDirectory(Path.Combine(_container.Bundle.Rootfs, "tmp"));
        var pid = await _container.CreateAsync(spec);
        var start = await _container.VerbAsync("start", _container.Id);
        Assert.True(start.ExitCode == 0, start + File.ReadAllText(_container.StderrFile));
        await _container.WaitForStatusAsync("running");
        return pid;
    }

    [Fact]
    public async Task Exec_HasTheInitsCredentialsCapabilitiesLimitsCgroupsAndCwd()
    {
        var initPid = await StartConfinedAsync(seccomp: null);

        var exec = await _container.ExecAsync(_container.Id, "sh", "-c", "cat /proc/self/status; echo cwd=$(pwd); cat /proc/self/cgroup; echo limits=$(ulimit -Sn)/$(ulimit -Hn)");

        Assert.True(exec.ExitCode == 0, exec.ToString());
        var initStatus = File.ReadAllText($"/proc/{initPid}/status");
        foreach (var key in ConfinementKeys)
        {
            Assert.Equal(StatusLine(initStatus, key), StatusLine(exec.Stdout, key));
        }
        Assert.Equal("5 7", StatusLine(exec.Stdout, "Groups"));
        Assert.Equal("0000000000000000", StatusLine(exec.Stdout, "CapAmb"));
        Assert.Equal("0000000000000421", StatusLine(exec.Stdout, "CapEff"));
        Assert.Equal("1", StatusLine(exec.Stdout, "NoNewPrivs"));
        Assert.Contains("cwd=/tmp\n", exec.Stdout);
        Assert.Contains("limits=321/654\n", exec.Stdout);
        // Without a cgroup namespace the container sees the host's cgroup paths.
        foreach (var line in File.ReadAllText($"/proc/{initPid}/cgroup").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Contains(line + "\n", exec.Stdout);
        }
    }

    [Fact]
    public async Task Exec_OfAnotherUser_SwitchesEveryIdAndKeepsTheGroupsAndBoundingSet()
    {
        var initPid = await StartConfinedAsync(seccomp: null);

        var exec = await _container.ExecAsync("--user", "1000:1001", _container.Id, "cat", "/proc/self/status");

        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal("1000\t1000\t1000\t1000", StatusLine(exec.Stdout, "Uid"));
        Assert.Equal("1001\t1001\t1001\t1001", StatusLine(exec.Stdout, "Gid"));
        Assert.Equal("5 7", StatusLine(exec.Stdout, "Groups"));
        // execve as a user other than root clears the permitted and effective sets (no ambient ones here).
        Assert.Equal("0000000000000000", StatusLine(exec.Stdout, "CapEff"));
        Assert.Equal(StatusLine(File.ReadAllText($"/proc/{initPid}/status"), "CapBnd"), StatusLine(exec.Stdout, "CapBnd"));
    }

    [Fact]
    public async Task Exec_InheritsNoDescriptorOfTheRuntime()
    {
        await StartConfinedAsync(seccomp: null);

        // ls opens /proc/self/fd itself, as descriptor 3.
        var exec = await _container.ExecAsync(_container.Id, "ls", "/proc/self/fd");

        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Equal(["0", "1", "2", "3"], exec.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Exec_IsFilteredByTheContainersSeccompProgram_CompiledOnceIntoTheStateDirectory()
    {
        var seccomp = new SeccompSpec
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls =
            [
                new SeccompSyscallSpec { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 31 },
            ],
        };
        var initPid = await StartConfinedAsync(seccomp);
        var program = Path.Combine(_container.Bundle.StateRoot, _container.Id, "exec-seccomp.bpf");
        Assert.False(File.Exists(program), "a program was compiled before any exec");

        var first = await _container.ExecAsync(_container.Id, "sh", "-c", "grep -E '^Seccomp' /proc/self/status; mkdir /tmp/denied && echo made");
        Assert.True(File.Exists(program), "the first exec left no compiled program");
        var compiled = File.GetLastWriteTimeUtc(program);
        var second = await _container.ExecAsync(_container.Id, "sh", "-c", "mkdir /tmp/denied-too && echo made");

        Assert.NotEqual(0, first.ExitCode);
        // EMLINK: nothing but the filter answers mkdir with it.
        Assert.Contains("Too many links", first.Stderr);
        Assert.DoesNotContain("made", first.Stdout);
        Assert.Equal("2", StatusLine(first.Stdout, "Seccomp"));
        Assert.Equal(StatusLine(File.ReadAllText($"/proc/{initPid}/status"), "Seccomp_filters"), StatusLine(first.Stdout, "Seccomp_filters"));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("Too many links", second.Stderr);
        Assert.Equal(compiled, File.GetLastWriteTimeUtc(program));
    }

    [Fact]
    public async Task Exec_MissingExecutable_FailsNamingIt()
    {
        await StartConfinedAsync(seccomp: null);

        var exec = await _container.ExecAsync(_container.Id, "no-such-tool");

        Assert.NotEqual(0, exec.ExitCode);
        Assert.Contains("no-such-tool", exec.Stderr);
    }

    [Fact]
    public async Task Exec_UnreachableWorkingDirectory_FailsBeforeRunning()
    {
        await StartConfinedAsync(seccomp: null);
        var processFile = Path.Combine(_container.Bundle.Directory, "process.json");
        var process = new ProcessSpec { Args = ["sh", "-c", "echo ran"], Cwd = "/no/such/dir", User = new UserSpec { Uid = 0, Gid = 0 }, Env = ["PATH=/bin"] };
        File.WriteAllBytes(processFile, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(process, OciJsonContext.Default.ProcessSpec));

        var exec = await _container.ExecAsync("--process", processFile, _container.Id);

        Assert.NotEqual(0, exec.ExitCode);
        Assert.Contains("/no/such/dir", exec.Stderr);
        Assert.DoesNotContain("ran", exec.Stdout);
    }
}
