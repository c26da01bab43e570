using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>Seccomp, cgroup limits, OOM and device rules, each checked from inside a real container.</summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ContainerSecurityTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonWithPod _pod = null!;

    public async Task InitializeAsync() => _pod = await DaemonWithPod.StartAsync(registry, "secure");

    public async Task DisposeAsync() => await _pod.DisposeAsync();

    private RuntimeService.RuntimeServiceClient Runtime => _pod.Runtime;

    private Task<string> StartAsync(string name, Action<ContainerConfig> configure, params string[] command) =>
        _pod.StartContainerAsync(name, config =>
        {
            config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext(), Resources = new LinuxContainerResources() };
            configure(config);
        }, command);

    private async Task<ExecSyncResponse> ExecAsync(string id, params string[] command) =>
        await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { command }, Timeout = 10 });

    [Fact]
    public async Task Seccomp_RuntimeDefault_FiltersTheContainerAndItsExecs()
    {
        var id = await StartAsync("seccomp-default", c => c.Linux.SecurityContext.Seccomp =
            new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault });

        var status = await ExecAsync(id, "grep", "^Seccomp:", "/proc/self/status");

        Assert.Equal("Seccomp:\t2\n", status.Stdout.ToStringUtf8());
        Assert.Equal("fine\n", (await ExecAsync(id, "echo", "fine")).Stdout.ToStringUtf8());
    }

    [Fact]
    public async Task Seccomp_LocalhostProfile_DeniesWithTheProfilesErrno()
    {
        var profile = Path.Combine(_pod.Daemon.BaseDirectory, "deny-mkdir.json");
        await File.WriteAllTextAsync(profile, """
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
            """);
        var id = await StartAsync("seccomp-localhost", c => c.Linux.SecurityContext.Seccomp =
            new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = profile });

        var mkdir = await ExecAsync(id, "mkdir", "/tmp/denied");

        Assert.NotEqual(0, mkdir.ExitCode);
        Assert.Contains("Permission denied", mkdir.Stderr.ToStringUtf8());
    }

    [Fact]
    public async Task Seccomp_LocalhostProfileMissing_IsInvalidArgumentNamingTheFile()
    {
        var config = CriRequests.Container("seccomp-missing", registry.BusyboxLatest.Reference, "true");
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "/nonexistent/profile.json" },
            },
        };

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = _pod.PodId, Config = config, SandboxConfig = _pod.PodConfig }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("/nonexistent/profile.json", error.Status.Detail);
    }

    /// <summary>
    /// Mount.recursive_read_only reaches the runtime as "rro": a volume's submount is read-only
    /// inside the container too, where a plain read-only bind leaves it writable.
    /// </summary>
    [Fact]
    public async Task RecursiveReadOnlyMount_SubmountOfTheVolume_IsReadOnlyInside()
    {
        var volume = Path.Combine(_pod.Daemon.BaseDirectory, "rro-volume");
        var submount = Path.Combine(volume, "sub");
        Directory.CreateDirectory(submount);
        await CommandRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", submount]);
        try
        {
            var id = await StartAsync("rro", c => c.Mounts.Add(new Mount
            {
                ContainerPath = "/data",
                HostPath = volume,
                Readonly = true,
                RecursiveReadOnly = true,
                Propagation = MountPropagation.PropagationPrivate,
            }), "sleep", "300");

            var write = await ExecAsync(id, "sh", "-c", "echo x > /data/sub/file");

            Assert.NotEqual(0, write.ExitCode);
            Assert.Contains("Read-only file system", write.Stderr.ToStringUtf8());
            Assert.False(File.Exists(Path.Combine(submount, "file")), "the container wrote into the submount of a recursive read-only volume");
        }
        finally
        {
            await CommandRunner.RunUncheckedAsync("umount", ["-l", submount]);
        }
    }

    [Fact]
    public async Task Resources_MemoryAndCpu_AreTheContainersCgroupLimits()
    {
        var id = await StartAsync("limited", c =>
        {
            c.Linux.Resources.MemoryLimitInBytes = 64L << 20;
            c.Linux.Resources.CpuQuota = 50_000;
            c.Linux.Resources.CpuPeriod = 100_000;
        });

        var memory = await ExecAsync(id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max");
        var cpu = await ExecAsync(id, "sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max");

        Assert.Equal($"{64L << 20}\n", memory.Stdout.ToStringUtf8());
        Assert.Equal("50000\n", cpu.Stdout.ToStringUtf8());
    }

    [Fact]
    public async Task UpdateContainerResources_RunningContainer_ChangesItsLimitsInPlace()
    {
        var id = await StartAsync("resized", c => c.Linux.Resources.MemoryLimitInBytes = 64L << 20);

        await Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { MemoryLimitInBytes = 96L << 20, CpuQuota = 20_000, CpuPeriod = 100_000 },
        });

        var memory = await ExecAsync(id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max");
        var cpu = await ExecAsync(id, "sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max");
        Assert.Equal($"{96L << 20}\n", memory.Stdout.ToStringUtf8());
        Assert.Equal("20000\n", cpu.Stdout.ToStringUtf8());
    }

    [Fact]
    public async Task ContainerStatus_Resources_AreTheLimitsLastApplied()
    {
        var id = await StartAsync("limits", c => c.Linux.Resources.MemoryLimitInBytes = 64L << 20);
        var before = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;

        await Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { MemoryLimitInBytes = 80L << 20, CpuShares = 512 },
        });
        var after = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;

        Assert.Equal(64L << 20, before.Resources.Linux.MemoryLimitInBytes);
        Assert.Equal(80L << 20, after.Resources.Linux.MemoryLimitInBytes);
        Assert.Equal(512, after.Resources.Linux.CpuShares);
    }

    [Fact]
    public async Task ContainerStatus_User_IsTheIdentityTheProcessHas()
    {
        // The test image grants no group memberships, so Merge and Strict agree here (the
        // unit tests of UserResolver cover where they differ).
        var id = await StartAsync("identity", c =>
        {
            c.Linux.SecurityContext.RunAsUser = new Int64Value { Value = 1000 };
            c.Linux.SecurityContext.RunAsGroup = new Int64Value { Value = 3000 };
            c.Linux.SecurityContext.SupplementalGroups.Add([4000, 5000]);
        });

        var status = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;
        var inside = await ExecAsync(id, "sh", "-c", "id -u; id -g; id -G");
        var lines = inside.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(long.Parse(lines[0]), status.User.Linux.Uid);
        Assert.Equal(long.Parse(lines[1]), status.User.Linux.Gid);
        Assert.Equal(lines[2].Split(' ').Select(long.Parse).Order(), status.User.Linux.SupplementalGroups.Order());
        Assert.Equal([3000L, 4000L, 5000L], status.User.Linux.SupplementalGroups);
    }

    [Fact]
    public async Task NonRootUser_WithEveryCapabilityDropped_Starts()
    {
        // The hardened pod of Kubernetes' restricted profile: runAsNonRoot, drop ALL. The init
        // waits for StartContainer as that user, without CAP_DAC_OVERRIDE, on the exec fifo.
        var id = await StartAsync("restricted", c =>
        {
            c.Linux.SecurityContext.RunAsUser = new Int64Value { Value = 1000 };
            c.Linux.SecurityContext.Capabilities = new Capability();
            c.Linux.SecurityContext.Capabilities.DropCapabilities.Add("ALL");
        });

        var inside = await ExecAsync(id, "sh", "-c", "id -u; grep CapEff /proc/1/status");

        Assert.Equal(0, inside.ExitCode);
        Assert.Equal(["1000", "CapEff:\t0000000000000000"], inside.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Memory_AllocatingPastTheLimit_ReportsOomKilledWith137()
    {
        var id = await StartAsync("hog", c =>
        {
            c.Linux.Resources.MemoryLimitInBytes = 32L << 20;
            c.Linux.Resources.MemorySwapLimitInBytes = 32L << 20;
        }, "dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1");

        var status = await _pod.WaitForExitAsync(id, TimeSpan.FromSeconds(20));

        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal("OOMKilled", status.Reason);
        Assert.Equal(137, status.ExitCode);
    }

    [Fact]
    public async Task Devices_BlockDeviceNodeMadeInside_CannotBeOpened()
    {
        var id = await StartAsync("devices", _ => { });

        var result = await ExecAsync(id, "sh", "-c", "mknod /tmp/disk b 8 0 && head -c 1 /tmp/disk");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Operation not permitted", result.Stderr.ToStringUtf8());
    }
}
