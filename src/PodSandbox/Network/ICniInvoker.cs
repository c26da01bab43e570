using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// Runs the node's CNI network (the first valid config in the CNI config directory, or the
/// built-in default bridge) for pods, following the CNI spec
/// (https://github.com/containernetworking/cni/blob/main/SPEC.md). Fakeable: SandboxManager
/// only sees this interface.
/// </summary>
public interface ICniInvoker
{
    /// <summary>
    /// Writes the exact network config used into <paramref name="cacheDirectory"/> first, then runs
    /// ADD through the plugin chain and caches the result beside it. On failure it throws; the
    /// caller then runs <see cref="DeleteAsync"/>, which works from that cache.
    /// </summary>
    Task<CniAttachment> AddAsync(CniPodRequest pod, string cacheDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// Runs DEL with the config cached in <paramref name="cacheDirectory"/> (and the cached ADD result
    /// as prevResult), in reverse plugin order, then deletes the cache. Nothing cached: nothing to do.
    /// </summary>
    Task DeleteAsync(string cacheDirectory, CancellationToken cancellationToken);

    /// <summary>
    /// Runs CHECK (SPEC.md "CHECK: Check container's networking is as expected") through the
    /// chain with the cached config and ADD result as prevResult. Not run, and said so, when
    /// nothing is attached, the network's cniVersion is below 0.4.0 (CHECK did not exist) or it
    /// sets disableCheck.
    /// </summary>
    Task<CniCheckResult> CheckAsync(string cacheDirectory, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="cacheDirectory"/> holds an attachment DEL has not undone yet.</summary>
    bool HasAttachment(string cacheDirectory);

    /// <summary>Whether pods can get a network now: a loadable config whose plugins exist (and answer STATUS from CNI 1.1.0 on).</summary>
    Task<NetworkReadiness> StatusAsync(CancellationToken cancellationToken);

    /// <summary>The node's pod CIDR(s) from kubelet (comma-separated for dual stack): the default network's subnet from now on.</summary>
    void SetPodCidr(string podCidr);
}

/// <summary>What ADD needs to know about a pod.</summary>
/// <param name="PodSandboxId">CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID.</param>
/// <param name="NetworkNamespace">CNI_NETNS: the pod's pinned netns path.</param>
/// <param name="Annotations">The pod's annotations (kubernetes.io/ingress-bandwidth and egress-bandwidth become the bandwidth capability).</param>
public sealed record CniPodRequest(
    string PodSandboxId,
    string NetworkNamespace,
    string PodName,
    string PodNamespace,
    string PodUid,
    IReadOnlyList<PortMapping> PortMappings,
    DNSConfig? Dns,
    IReadOnlyDictionary<string, string>? Annotations = null);

/// <summary>The pod's addresses from the final ADD result, IPv4 first.</summary>
public sealed record CniAttachment(IReadOnlyList<string> Ips);

/// <summary>What CHECK said: <see cref="Performed"/> false with the reason it was not run, else whether every plugin passed.</summary>
public sealed record CniCheckResult(bool Performed, bool Succeeded, string Message)
{
    public static CniCheckResult Skipped(string reason) => new(false, true, reason);
}

/// <param name="Reason">CamelCase, as kubelet shows it in the node condition ("NetworkPluginNotReady").</param>
public sealed record NetworkReadiness(bool Ready, string Reason, string Message)
{
    public const string NotReadyReason = "NetworkPluginNotReady";

    public static NetworkReadiness IsReady { get; } = new(true, "", "");
}
