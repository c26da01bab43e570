using CriOci.Cri.V1;

namespace CriOci.PodSandbox;

/// <summary>
/// Pods and their containers on this node. The CRI server validates requests and delegates
/// here; the CRI messages are the vocabulary (as in containerd's CRI plugin), the behaviour
/// (namespaces, bundles, processes, state on disk) lives behind this interface.
/// Errors are CriOci.Core exceptions: NotFound, AlreadyExists, InvalidArgument, FailedPrecondition.
/// </summary>
public interface ISandboxManager : IDisposable
{
    /// <summary>The RuntimeClass handlers pods may name, the default (embedded) one first, with what each supports.</summary>
    IReadOnlyList<Handlers.RuntimeHandlerInfo> RuntimeHandlers => [new Handlers.RuntimeHandlerInfo("", OciRuntime.External.RuntimeFeatures.None)];

    /// <summary>Creates the pod's namespaces and files; returns the new pod ID.</summary>
    Task<string> RunPodSandboxAsync(PodSandboxConfig config, string runtimeHandler, CancellationToken cancellationToken);

    /// <summary>Stops every container of the pod and releases its network. Idempotent.</summary>
    Task StopPodSandboxAsync(string podSandboxId, CancellationToken cancellationToken);

    /// <summary>Removes the pod, its containers and everything left of them. Idempotent.</summary>
    Task RemovePodSandboxAsync(string podSandboxId, CancellationToken cancellationToken);

    PodSandboxStatusResponse PodSandboxStatus(string podSandboxId, bool verbose);

    /// <summary>CNI CHECK of a ready pod's network (not performed for pods not ready or networks without CHECK).</summary>
    Task<Network.CniCheckResult> CheckPodNetworkAsync(string podSandboxId, CancellationToken cancellationToken);

    IReadOnlyList<Cri.V1.PodSandbox> ListPodSandbox(PodSandboxFilter? filter);

    /// <summary>
    /// Writes the container's bundle and creates it (its init waits for Start); returns its ID.
    /// <paramref name="imageVolumes"/> are the images its mounts with Mount.image name, by mount index.
    /// </summary>
    Task<string> CreateContainerAsync(string podSandboxId, ContainerConfig config, PodSandboxConfig sandboxConfig, ContainerImage image,
        IReadOnlyDictionary<int, ContainerImage> imageVolumes, CancellationToken cancellationToken);

    Task StartContainerAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Stop signal, then SIGKILL after <paramref name="timeout"/>. Idempotent.</summary>
    Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Stops if needed and removes the container. Idempotent.</summary>
    Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken);

    ContainerStatusResponse ContainerStatus(string containerId, bool verbose);

    IReadOnlyList<Container> ListContainers(ContainerFilter? filter);

    /// <summary>Runs a command in the container; a zero timeout means no limit.</summary>
    Task<ExecSyncResponse> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a command in the running container for a streaming exec session, on a terminal
    /// when <paramref name="tty"/> is set. The caller owns the process (disposing kills it).
    /// </summary>
    Task<OciRuntime.Launch.InteractiveProcess> ExecInteractiveAsync(string containerId, IReadOnlyList<string> command, bool tty, bool stdin, CancellationToken cancellationToken);

    /// <summary>Connects to the running container's output and input through its monitor.</summary>
    Task<OciRuntime.Launch.AttachConnection> AttachAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>Reopens the container's log file after kubelet rotated it. FailedPrecondition when the container is not running.</summary>
    Task ReopenContainerLogAsync(string containerId, CancellationToken cancellationToken);

    /// <summary>New CPU and memory limits for a running container (kubelet's in-place resize).</summary>
    Task UpdateContainerResourcesAsync(string containerId, LinuxContainerResources resources, CancellationToken cancellationToken);

    /// <summary>New overhead and resource totals for a ready pod's own cgroup (kubelet's in-place resize); null keeps the old one.</summary>
    Task UpdatePodSandboxResourcesAsync(string podSandboxId, LinuxContainerResources? overhead, LinuxContainerResources? resources, CancellationToken cancellationToken);

    /// <summary>CPU, memory and writable-layer usage of one container.</summary>
    ContainerStats ContainerStats(string containerId);

    /// <summary>Stats of every container matching <paramref name="filter"/>.</summary>
    IReadOnlyList<ContainerStats> ListContainerStats(ContainerStatsFilter? filter);

    /// <summary>CPU, memory and processes of the pod's containers together, and its network interfaces' counters.</summary>
    PodSandboxStats PodSandboxStats(string podSandboxId);

    /// <summary>Stats of every pod matching <paramref name="filter"/>.</summary>
    IReadOnlyList<PodSandboxStats> ListPodSandboxStats(PodSandboxStatsFilter? filter);

    /// <summary>The cAdvisor-style metrics ListPodSandboxMetrics reports.</summary>
    IEnumerable<MetricDescriptor> ListMetricDescriptors();

    /// <summary>cAdvisor-style metrics of every pod and its containers.</summary>
    IReadOnlyList<PodSandboxMetrics> ListPodSandboxMetrics();

    /// <summary>
    /// A TCP connection to <paramref name="port"/> on the pod's loopback, made from inside its
    /// network namespace (port-forward). FailedPrecondition when nothing listens there.
    /// </summary>
    Task<Stream> ConnectToPodPortAsync(string podSandboxId, int port, CancellationToken cancellationToken);

    /// <summary>True when some container was created from the image (RemoveImage refuses those).</summary>
    bool IsImageInUse(string imageId);

    /// <summary>The NetworkReady condition: can pods (other than hostNetwork ones) get a network now.</summary>
    Task<Network.NetworkReadiness> NetworkStatusAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Lifecycle events of pods and containers from now on (GetContainerEvents), in order.
    /// Dispose the subscription when the client goes.
    /// </summary>
    Events.ContainerEventSubscription SubscribeContainerEvents();

    /// <summary>kubelet's pod CIDR (UpdateRuntimeConfig): the built-in default network's subnet from now on.</summary>
    void UpdatePodCidr(string podCidr);
}

/// <summary>The parts of an image a container is built from, resolved by the image service.</summary>
/// <param name="LayerDirectories">Unpacked layers, topmost first (overlay lowerdir order).</param>
public sealed record ContainerImage(
    string Id,
    string Reference,
    IReadOnlyList<string> LayerDirectories,
    string? User,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    string? WorkingDir,
    string? StopSignal);
