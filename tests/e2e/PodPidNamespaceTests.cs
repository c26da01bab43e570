using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// PID namespace sharing (POD, with the pod-infra reaper as PID 1, and TARGET), pod sysctls and
/// long pod names, checked from inside real busybox containers.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class PodPidNamespaceTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync()
    {
        _daemon = await DaemonProcess.StartAsync();
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;

    private PodSandboxConfig Pod(string name, NamespaceMode pid)
    {
        var config = CriRequests.Pod(name, Path.Combine(_daemon.BaseDirectory, "logs"));
        config.Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Pid = pid } },
        };
        return config;
    }

    private async Task<string> RunPodAsync(PodSandboxConfig config) =>
        (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;

    private async Task<string> StartAsync(string podId, PodSandboxConfig pod, string name, NamespaceMode pid, string targetId, params string[] command)
    {
        var config = CriRequests.Container(name, registry.BusyboxLatest.Reference, command);
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = pid, TargetId = targetId } },
        };
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = pod });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        return created.ContainerId;
    }

    private async Task<string> ExecAsync(string id, params string[] command)
    {
        var result = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { command }, Timeout = 20 });
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)} exited {result.ExitCode}: {result.Stderr.ToStringUtf8()}");
        return result.Stdout.ToStringUtf8();
    }

    /// <summary>Command lines of every process the container sees, from its own /proc.</summary>
    private Task<string> ProcessesSeenByAsync(string id) =>
        ExecAsync(id, "sh", "-c", "for p in /proc/[0-9]*; do echo \"${p#/proc/}: $(tr '\\0' ' ' < $p/cmdline 2>/dev/null)\"; done");

    /// <summary>The reaper's host PID and start time, from the pod's record as the daemon saved it.</summary>
    private (int Pid, ulong StartTime) InfraOf(string podId)
    {
        using var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_daemon.RootDirectory, "pods", podId, "sandbox.json")));
        var infra = record.RootElement.GetProperty("infra");
        return (infra.GetProperty("pid").GetInt32(), infra.GetProperty("startTime").GetUInt64());
    }

    [Fact]
    public async Task PidModePod_ContainersSeeEachOtherAndPid1IsTheInfraReaper()
    {
        var pod = Pod("shared-pid", NamespaceMode.Pod);
        var podId = await RunPodAsync(pod);
        var first = await StartAsync(podId, pod, "first", NamespaceMode.Pod, "", "sleep", "3601");
        var second = await StartAsync(podId, pod, "second", NamespaceMode.Pod, "", "sleep", "3602");

        var seenByFirst = await ProcessesSeenByAsync(first);
        var seenBySecond = await ProcessesSeenByAsync(second);

        Assert.Contains("sleep 3602", seenByFirst);
        Assert.Contains("sleep 3601", seenBySecond);
        Assert.Contains("pod-infra\0--detached\0", await ExecAsync(first, "cat", "/proc/1/cmdline"));
        var (infraPid, startTime) = InfraOf(podId);
        Assert.Equal(startTime, HostInspection.StartTimeOf(infraPid));
    }

    [Fact]
    public async Task PidModePod_OrphanedChildExits_TheInfraReapsIt()
    {
        var pod = Pod("reaping", NamespaceMode.Pod);
        var podId = await RunPodAsync(pod);
        var id = await StartAsync(podId, pod, "parent", NamespaceMode.Pod, "", "sleep", "3600");

        // The exec's shell exits at once: its background sleep is orphaned and re-parented to
        // PID 1 of the pod's namespace, which must reap it when it ends.
        var orphan = (await ExecAsync(id, "sh", "-c", "sleep 3 >/dev/null 2>&1 </dev/null & echo $!")).Trim();
        var parentOfOrphan = (await ExecAsync(id, "sh", "-c", $"cut -d' ' -f4 /proc/{orphan}/stat 2>/dev/null || echo gone")).Trim();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string left;
        do
        {
            await Task.Delay(200);
            left = (await ExecAsync(id, "sh", "-c", $"cat /proc/{orphan}/stat 2>/dev/null || true")).Trim();
        }
        while (left.Length > 0 && DateTime.UtcNow < deadline);

        Assert.True(parentOfOrphan is "1" or "gone", $"the orphan's parent was {parentOfOrphan}, not PID 1");
        Assert.True(left.Length == 0, $"the orphan was never reaped: {left}");
    }

    [Fact]
    public async Task PidModeContainer_ContainersDoNotSeeEachOther()
    {
        var pod = Pod("private-pid", NamespaceMode.Container);
        var podId = await RunPodAsync(pod);
        var first = await StartAsync(podId, pod, "first", NamespaceMode.Container, "", "sleep", "3601");
        var second = await StartAsync(podId, pod, "second", NamespaceMode.Container, "", "sleep", "3602");

        Assert.DoesNotContain("sleep 3602", await ProcessesSeenByAsync(first));
        Assert.DoesNotContain("sleep 3601", await ProcessesSeenByAsync(second));
        Assert.Equal("sleep\03601\0", await ExecAsync(first, "cat", "/proc/1/cmdline"));
        Assert.False(File.ReadAllText(Path.Combine(_daemon.RootDirectory, "pods", podId, "sandbox.json")).Contains("\"infra\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PidModeTarget_DebugContainerSeesTheTargetsProcesses()
    {
        var pod = Pod("target-pid", NamespaceMode.Container);
        var podId = await RunPodAsync(pod);
        var target = await StartAsync(podId, pod, "app", NamespaceMode.Container, "", "sleep", "3601");
        var bystander = await StartAsync(podId, pod, "bystander", NamespaceMode.Container, "", "sleep", "3604");

        var debug = await StartAsync(podId, pod, "debug", NamespaceMode.Target, target, "sleep", "3603");

        var seenByDebug = await ProcessesSeenByAsync(debug);
        Assert.Contains("sleep 3601", seenByDebug);
        Assert.DoesNotContain("sleep 3604", seenByDebug);
        Assert.Equal("sleep\03601\0", await ExecAsync(debug, "cat", "/proc/1/cmdline"));
        Assert.Contains("sleep 3603", await ProcessesSeenByAsync(target));
        Assert.DoesNotContain("sleep 3603", await ProcessesSeenByAsync(bystander));
    }

    [Fact]
    public async Task PidModeTarget_TargetNotInThePod_IsNotFoundNamingTargetId()
    {
        var pod = Pod("target-missing", NamespaceMode.Container);
        var podId = await RunPodAsync(pod);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            StartAsync(podId, pod, "debug", NamespaceMode.Target, "0123456789abcdef", "sleep", "3603"));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("target_id", error.Status.Detail);
    }

    [Fact]
    public async Task PidModePod_DaemonKilledAndRestarted_PodKeepsWorkingAndRemoveLeavesNoInfra()
    {
        var pod = Pod("pid-survivor", NamespaceMode.Pod);
        var podId = await RunPodAsync(pod);
        var first = await StartAsync(podId, pod, "first", NamespaceMode.Pod, "", "sleep", "3601");
        var (infraPid, startTime) = InfraOf(podId);

        await _daemon.KillAsync();
        Assert.Equal(startTime, HostInspection.StartTimeOf(infraPid));
        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);

        var second = await StartAsync(podId, pod, "second", NamespaceMode.Pod, "", "sleep", "3602");
        Assert.Contains("sleep 3601", await ProcessesSeenByAsync(second));
        Assert.Contains("sleep 3602", await ProcessesSeenByAsync(first));

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        Assert.Null(HostInspection.StartTimeOf(infraPid));
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    [Fact]
    public async Task PidModePod_InfraReaperKilled_PodIsNotReadyAndStillStopsAndRemoves()
    {
        var pod = Pod("reaper-killed", NamespaceMode.Pod);
        var podId = await RunPodAsync(pod);
        await StartAsync(podId, pod, "first", NamespaceMode.Pod, "", "sleep", "3601");
        var (infraPid, _) = InfraOf(podId);
        var ready = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId });
        Assert.Equal(PodSandboxState.SandboxReady, ready.Status.State);

        // PID 1 of the namespace gone: the kernel kills the pod's processes, and no new
        // container can ever join that namespace.
        using (var reaper = System.Diagnostics.Process.GetProcessById(infraPid))
        {
            reaper.Kill();
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (HostInspection.StartTimeOf(infraPid) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var status = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId });
        Assert.Equal(PodSandboxState.SandboxNotready, status.Status.State);
        var listed = await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest
        {
            Filter = new PodSandboxFilter { Id = podId, State = new PodSandboxStateValue { State = PodSandboxState.SandboxNotready } },
        });
        Assert.Single(listed.Items);
        var error = await Assert.ThrowsAsync<RpcException>(() => StartAsync(podId, pod, "late", NamespaceMode.Pod, "", "sleep", "1"));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    [Fact]
    public async Task Sysctls_NetAndIpc_AreThePodsAndNotTheHosts()
    {
        var hostSomaxconn = File.ReadAllText("/proc/sys/net/core/somaxconn");
        var hostShmmax = File.ReadAllText("/proc/sys/kernel/shmmax");
        var pod = Pod("sysctls", NamespaceMode.Container);
        pod.Linux.Sysctls.Add("net.core.somaxconn", "1234");
        pod.Linux.Sysctls.Add("net.ipv4.ip_unprivileged_port_start", "81");
        pod.Linux.Sysctls.Add("kernel.shmmax", "12345678");
        var podId = await RunPodAsync(pod);
        var first = await StartAsync(podId, pod, "first", NamespaceMode.Container, "", "sleep", "3601");
        var second = await StartAsync(podId, pod, "second", NamespaceMode.Container, "", "sleep", "3602");

        foreach (var id in new[] { first, second })
        {
            Assert.Equal("1234\n", await ExecAsync(id, "cat", "/proc/sys/net/core/somaxconn"));
            Assert.Equal("81\n", await ExecAsync(id, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"));
            Assert.Equal("12345678\n", await ExecAsync(id, "cat", "/proc/sys/kernel/shmmax"));
        }
        Assert.Equal(hostSomaxconn, File.ReadAllText("/proc/sys/net/core/somaxconn"));
        Assert.Equal(hostShmmax, File.ReadAllText("/proc/sys/kernel/shmmax"));
    }

    [Theory]
    [InlineData("kernel.pid_max", "65536")]
    [InlineData("vm.swappiness", "10")]
    [InlineData("net.core.../../../kernel/pid_max", "1")]
    public async Task Sysctls_NotNamespaced_AreInvalidArgumentNamingTheSysctl(string name, string value)
    {
        var pod = Pod("unsafe-sysctl", NamespaceMode.Container);
        pod.Linux.Sysctls.Add(name, value);

        var error = await Assert.ThrowsAsync<RpcException>(() => RunPodAsync(pod));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(name, error.Status.Detail);
        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
    }

    [Fact]
    public async Task LongPodNameWithoutHostname_HostnameIsTheNameCutTo63Characters()
    {
        var name = new string('a', 60) + "-b." + new string('c', 40);
        var pod = Pod(name, NamespaceMode.Container);
        pod.Hostname = "";
        var podId = await RunPodAsync(pod);

        var id = await StartAsync(podId, pod, "app", NamespaceMode.Container, "", "sleep", "3600");

        Assert.Equal(new string('a', 60) + "-b\n", await ExecAsync(id, "hostname"));
    }
}
