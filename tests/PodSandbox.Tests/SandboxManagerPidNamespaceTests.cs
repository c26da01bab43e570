using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests;

/// <summary>PID namespace modes POD and TARGET and pod sysctl validation, through SandboxManager with fakes.</summary>
public sealed class SandboxManagerPidNamespaceTests : IDisposable
{
    private static readonly IReadOnlyDictionary<int, ContainerImage> NoImageVolumes = new Dictionary<int, ContainerImage>();

    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-pidns-").FullName;
    private readonly SandboxManagerOptions _options;
    private readonly CallLog _log = new();
    private readonly FakeContainerRuntime _runtime;

    public SandboxManagerPidNamespaceTests()
    {
        _options = new SandboxManagerOptions(Path.Combine(_temp, "root"), Path.Combine(_temp, "state"), "/nonexistent/crioci-runtime");
        _runtime = new FakeContainerRuntime(_log);
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private SandboxManager NewManager() =>
        new(_options, _runtime, new FakeNamespacePinner(_log), new FakeMounter(_log), new FakeCniInvoker(new CallLog()), NullLogger.Instance, new FakePodInfra(_log));

    private string PodState(string id) => Path.Combine(_options.StateDirectory, "pods", id);

    private static PodSandboxConfig PodConfig(NamespaceMode pid, string name = "web")
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "shop", Uid = "uid-" + name },
            Hostname = name,
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Pid = pid } },
            },
        };
        return config;
    }

    private static ContainerConfig ContainerConfig(string name, NamespaceMode pid, string targetId = "")
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name },
            Image = new ImageSpec { Image = "busybox" },
            Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = pid, TargetId = targetId } },
            },
        };
        config.Command.Add("/bin/sleep");
        return config;
    }

    private static ContainerImage Image() => new(
        "sha256:busybox", "docker.io/library/busybox:1.36", ["/layers/busybox"], User: null, Env: ["PATH=/bin"],
        Entrypoint: [], Cmd: ["sh"], WorkingDir: null, StopSignal: null);

    private RuntimeSpec SpecOf(string containerId) => System.Text.Json.JsonSerializer.Deserialize(
        File.ReadAllBytes(Path.Combine(_options.StateDirectory, "containers", containerId, "config.json")), OciJsonContext.Default.RuntimeSpec)!;

    private static string? PidPath(RuntimeSpec spec) => spec.Linux!.Namespaces!.Single(n => n.Type == "pid").Path;

    [Fact]
    public async Task RunPodSandboxAsync_PidModePod_StartsInfraInThePodsNamespacesAndRecordsIt()
    {
        var manager = NewManager();

        var pod = await manager.RunPodSandboxAsync(PodConfig(NamespaceMode.Pod), "", CancellationToken.None);

        var ns = Path.Combine(PodState(pod), "ns");
        Assert.Contains($"StartInfra {ns}/net {ns}/ipc {ns}/uts", _log.Calls);
        Assert.Equal($"{FakePodInfra.Self.Pid} {FakePodInfra.Self.StartTime}", File.ReadAllText(Path.Combine(PodState(pod), "infra")));
        var container = await NewManager().CreateContainerAsync(pod, ContainerConfig("app", NamespaceMode.Pod), PodConfig(NamespaceMode.Pod), Image(), NoImageVolumes, CancellationToken.None);
        Assert.Equal($"/proc/{FakePodInfra.Self.Pid}/ns/pid", PidPath(SpecOf(container)));
    }

    [Fact]
    public async Task RunPodSandboxAsync_PidModeContainer_StartsNoInfra()
    {
        var manager = NewManager();

        var pod = await manager.RunPodSandboxAsync(PodConfig(NamespaceMode.Container), "", CancellationToken.None);
        var container = await manager.CreateContainerAsync(pod, ContainerConfig("app", NamespaceMode.Container), PodConfig(NamespaceMode.Container), Image(), NoImageVolumes, CancellationToken.None);

        Assert.DoesNotContain(_log.Calls, c => c.StartsWith("StartInfra", StringComparison.Ordinal));
        Assert.Null(PidPath(SpecOf(container)));
        await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            manager.CreateContainerAsync(pod, ContainerConfig("shared", NamespaceMode.Pod), PodConfig(NamespaceMode.Container), Image(), NoImageVolumes, CancellationToken.None));
    }

    [Fact]
    public async Task StopPodSandboxAsync_PidModePod_StopsInfraAfterTheContainersAndBeforeTheNetns()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(NamespaceMode.Pod), "", CancellationToken.None);
        var container = await manager.CreateContainerAsync(pod, ContainerConfig("app", NamespaceMode.Pod), PodConfig(NamespaceMode.Pod), Image(), NoImageVolumes, CancellationToken.None);
        await manager.StartContainerAsync(container, CancellationToken.None);
        _log.Clear();

        await manager.StopPodSandboxAsync(pod, CancellationToken.None);

        Assert.Equal([$"Kill {container} 9", $"StopInfra {FakePodInfra.Self.Pid}", $"Unmount {PodState(pod)}/ns/net"], _log.Calls);
    }

    [Fact]
    public async Task NewManager_IncompletePodWithInfraFile_StopsTheInfra()
    {
        var orphan = "fedcba9876543210";
        Directory.CreateDirectory(Path.Combine(_options.RootDirectory, "pods", orphan));
        Directory.CreateDirectory(PodState(orphan));
        File.WriteAllText(Path.Combine(PodState(orphan), "infra"), $"{FakePodInfra.Self.Pid} {FakePodInfra.Self.StartTime}");

        NewManager();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Directory.Exists(PodState(orphan)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Contains($"StopInfra {FakePodInfra.Self.Pid}", _log.Calls);
        Assert.False(Directory.Exists(PodState(orphan)));
    }

    [Fact]
    public async Task CreateContainerAsync_PidModeTarget_JoinsTheRunningTargetsNamespace()
    {
        var manager = NewManager();
        var pod = await manager.RunPodSandboxAsync(PodConfig(NamespaceMode.Container), "", CancellationToken.None);
        var target = await manager.CreateContainerAsync(pod, ContainerConfig("app", NamespaceMode.Container), PodConfig(NamespaceMode.Container), Image(), NoImageVolumes, CancellationToken.None);
        await manager.StartContainerAsync(target, CancellationToken.None);

        var debug = await manager.CreateContainerAsync(pod, ContainerConfig("debug", NamespaceMode.Target, target), PodConfig(NamespaceMode.Container), Image(), NoImageVolumes, CancellationToken.None);

        Assert.Equal($"/proc/{_runtime.GetState(target)!.Pid}/ns/pid", PidPath(SpecOf(debug)));
    }

    [Fact]
    public async Task CreateContainerAsync_PidModeTargetBad_ThrowsNamingTargetId()
    {
        var manager = NewManager();
        var config = PodConfig(NamespaceMode.Container);
        var pod = await manager.RunPodSandboxAsync(config, "", CancellationToken.None);
        var other = await manager.RunPodSandboxAsync(PodConfig(NamespaceMode.Container, "other"), "", CancellationToken.None);
        var created = await manager.CreateContainerAsync(pod, ContainerConfig("created", NamespaceMode.Container), config, Image(), NoImageVolumes, CancellationToken.None);
        var elsewhere = await manager.CreateContainerAsync(other, ContainerConfig("elsewhere", NamespaceMode.Container), config, Image(), NoImageVolumes, CancellationToken.None);
        await manager.StartContainerAsync(elsewhere, CancellationToken.None);

        var empty = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
            manager.CreateContainerAsync(pod, ContainerConfig("d1", NamespaceMode.Target), config, Image(), NoImageVolumes, CancellationToken.None));
        var missing = await Assert.ThrowsAsync<NotFoundException>(() =>
            manager.CreateContainerAsync(pod, ContainerConfig("d2", NamespaceMode.Target, "0123456789"), config, Image(), NoImageVolumes, CancellationToken.None));
        var otherPod = await Assert.ThrowsAsync<NotFoundException>(() =>
            manager.CreateContainerAsync(pod, ContainerConfig("d3", NamespaceMode.Target, elsewhere), config, Image(), NoImageVolumes, CancellationToken.None));
        var notRunning = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            manager.CreateContainerAsync(pod, ContainerConfig("d4", NamespaceMode.Target, created), config, Image(), NoImageVolumes, CancellationToken.None));

        Assert.All(new Exception[] { empty, missing, otherPod, notRunning }, e => Assert.Contains("target_id", e.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("kernel.pid_max", NamespaceMode.Pod)]
    [InlineData("net.ipv4.ip_forward", NamespaceMode.Node)]
    public async Task RunPodSandboxAsync_SysctlNotAllowed_ThrowsInvalidArgumentBeforeAnythingIsAcquired(string name, NamespaceMode network)
    {
        var manager = NewManager();
        var config = PodConfig(NamespaceMode.Pod);
        config.Linux.SecurityContext.NamespaceOptions.Network = network;
        config.Linux.Sysctls.Add(name, "1");

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(config, "", CancellationToken.None));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_log.Calls, c => c.StartsWith("Pin", StringComparison.Ordinal) || c.StartsWith("StartInfra", StringComparison.Ordinal));
    }
}
