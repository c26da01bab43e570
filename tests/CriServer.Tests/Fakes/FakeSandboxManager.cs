using CriOci.Cri.V1;
using CriOci.PodSandbox;

namespace CriOci.CriServer.Tests.Fakes;

/// <summary>Records every call; answers from what the test put in; throws <see cref="Failure"/> when set.</summary>
internal sealed class FakeSandboxManager : ISandboxManager
{
    public List<string> Calls { get; } = [];

    /// <summary>Thrown by every call once set, to test how errors surface.</summary>
    public Exception? Failure { get; set; }

    public HashSet<string> ImagesInUse { get; } = [];

    public List<Cri.V1.PodSandbox> Pods { get; } = [];

    public List<Container> Containers { get; } = [];

    /// <summary>The state ContainerStatus reports for any container.</summary>
    public ContainerState ContainerStateOfAll { get; set; } = ContainerState.ContainerCreated;

    public PodSandboxConfig? LastPodConfig { get; private set; }

    public string? LastRuntimeHandler { get; private set; }

    public ContainerImage? LastContainerImage { get; private set; }

    public TimeSpan? LastTimeout { get; private set; }

    public IReadOnlyList<string>? LastCommand { get; private set; }

    public Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler, CancellationToken cancellationToken)
    {
        Record($"RunPodSandbox {config.Metadata.Name}");
        (LastPodConfig, LastRuntimeHandler) = (config, runtimeHandler);
        return Task.FromResult("pod-1");
    }

    public Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken) =>
        RecordAsync($"StopPodSandbox {podSandboxId}");

    public Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken) =>
        RecordAsync($"RemovePodSandbox {podSandboxId}");

    public PodSandboxStatusResponse PodSandboxStatus(string podSandboxId, bool verbose)
    {
        Record($"PodSandboxStatus {podSandboxId}");
        return new PodSandboxStatusResponse { Status = new PodSandboxStatus { Id = podSandboxId } };
    }

    public IReadOnlyList<Cri.V1.PodSandbox> ListPodSandbox(PodSandboxFilter? filter)
    {
        Record("ListPodSandbox");
        return Pods;
    }

    public Task<string> CreateContainerAsync(string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, ContainerImage image,
        IReadOnlyDictionary<int, ContainerImage> imageVolumes, CancellationToken cancellationToken)
    {
        Record($"CreateContainer {podSandboxId} {config.Metadata.Name}");
        LastContainerImage = image;
        return Task.FromResult("ctr-1");
    }

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken) =>
        RecordAsync($"StartContainer {containerId}");

    public Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        LastTimeout = timeout;
        return RecordAsync($"StopContainer {containerId}");
    }

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken) =>
        RecordAsync($"RemoveContainer {containerId}");

    public ContainerStatusResponse ContainerStatus(string containerId, bool verbose)
    {
        Record($"ContainerStatus {containerId}");
        return new ContainerStatusResponse { Status = new ContainerStatus { Id = containerId, State = ContainerStateOfAll } };
    }

    public IReadOnlyList<Container> ListContainers(ContainerFilter? filter)
    {
        Record("ListContainers");
        return Containers;
    }

    public Task<ExecSyncResponse> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Record($"ExecSync {containerId}");
        (LastCommand, LastTimeout) = ([.. command], timeout);
        return Task.FromResult(new ExecSyncResponse { ExitCode = 3 });
    }

    public Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken) =>
        RecordAsync($"UpdateContainerResources {containerId} {resources.MemoryLimitInBytes}");

    public PodSandbox.Network.CniCheckResult NetworkCheck { get; set; } = new(true, true, "fake network passed CHECK");

    public Task<PodSandbox.Network.CniCheckResult> CheckPodNetworkAsync(string podSandboxId, CancellationToken cancellationToken) =>
        Task.FromResult(NetworkCheck);

    public Task UpdatePodSandboxResourcesAsync(string podSandboxId, LinuxContainerResources? overhead, LinuxContainerResources? resources, CancellationToken cancellationToken) =>
        RecordAsync($"UpdatePodSandboxResources {podSandboxId} {overhead?.MemoryLimitInBytes} {resources?.MemoryLimitInBytes}");

    public Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken) =>
        RecordAsync($"ReopenContainerLog {containerId}");

    public ContainerStats ContainerStats(string containerId)
    {
        Record($"ContainerStats {containerId}");
        return new ContainerStats { Attributes = new ContainerAttributes { Id = containerId } };
    }

    public IReadOnlyList<ContainerStats> ListContainerStats(ContainerStatsFilter? filter)
    {
        Record($"ListContainerStats {filter?.PodSandboxId}");
        return [new ContainerStats { Attributes = new ContainerAttributes { Id = "c1" } }];
    }

    public bool IsImageInUse(string imageId)
    {
        Record($"IsImageInUse {imageId}");
        return ImagesInUse.Contains(imageId);
    }

    /// <summary>What NetworkStatusAsync answers.</summary>
    public PodSandbox.Network.NetworkReadiness Network { get; set; } =
        new(false, PodSandbox.Network.NetworkReadiness.NotReadyReason, "fake: no network");

    public List<string> PodCidrs { get; } = [];

    public Task<PodSandbox.Network.NetworkReadiness> NetworkStatusAsync(CancellationToken cancellationToken)
    {
        Record("NetworkStatus");
        return Task.FromResult(Network);
    }

    public PodSandboxStats PodSandboxStats(string podSandboxId)
    {
        Record($"PodSandboxStats {podSandboxId}");
        return new PodSandboxStats { Attributes = new PodSandboxAttributes { Id = podSandboxId } };
    }

    public IReadOnlyList<PodSandboxStats> ListPodSandboxStats(PodSandboxStatsFilter? filter)
    {
        Record("ListPodSandboxStats");
        return [.. Pods.Select(pod => new PodSandboxStats { Attributes = new PodSandboxAttributes { Id = pod.Id } })];
    }

    public IEnumerable<MetricDescriptor> ListMetricDescriptors() => PodSandbox.Metrics.CadvisorMetrics.Descriptors();

    public IReadOnlyList<PodSandboxMetrics> ListPodSandboxMetrics() =>
        [.. ListPodSandboxStats(null).Select(stats => PodSandbox.Metrics.CadvisorMetrics.FromStats(stats, new Dictionary<string, string>()))];

    public Task<Stream> ConnectToPodPortAsync(string podSandboxId, int port, CancellationToken cancellationToken)
    {
        Record($"ConnectToPodPort {podSandboxId} {port}");
        return Task.FromResult<Stream>(new MemoryStream());
    }

    public Task<OciRuntime.Launch.InteractiveProcess> ExecInteractiveAsync(string containerId, IReadOnlyList<string> command, bool tty, bool stdin, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the CRI server tests do not run processes");

    public Task<OciRuntime.Launch.AttachConnection> AttachAsync(string containerId, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the CRI server tests do not run processes");

    /// <summary>Events the tests publish to GetContainerEvents clients.</summary>
    public PodSandbox.Events.ContainerEventHub Events { get; } = new();

    public PodSandbox.Events.ContainerEventSubscription SubscribeContainerEvents() => Events.Subscribe();

    public void Dispose()
    {
    }

    public void UpdatePodCidr(string podCidr)
    {
        Record($"UpdatePodCidr {podCidr}");
        PodCidrs.Add(podCidr);
    }

    private Task RecordAsync(string call)
    {
        Record(call);
        return Task.CompletedTask;
    }

    private void Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }
        if (Failure is not null)
        {
            throw Failure;
        }
    }
}
