using System.Collections.Concurrent;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime;
using CriOci.PodSandbox.Namespaces;
using CriOci.PodSandbox.Network;
using CriOci.PodSandbox.Storage;
using Microsoft.Extensions.Logging;

namespace CriOci.PodSandbox;

/// <summary>
/// Pods and containers: their records on disk, their namespaces and mounts, and the OCI
/// runtime that runs them. One operation per partial file (SandboxManager.&lt;Rpc&gt;.cs).
/// </summary>
internal sealed partial class SandboxManager : ISandboxManager
{
    private sealed record SandboxEntry(SandboxRecord Record, PodSandboxConfig Config);

    private sealed record ContainerEntry(ContainerRecord Record, ContainerConfig Config);

    private readonly SandboxManagerOptions _options;
    private readonly IContainerRuntime _runtime;
    private readonly INamespacePinner _pinner;
    private readonly IMounter _mounter;
    private readonly ICniInvoker _cni;
    private readonly Sandboxes.IPodInfra _infra;
    private readonly ILogger _logger;
    private readonly RecordDirectory<SandboxRecord, PodSandboxConfig> _sandboxStore;
    private readonly RecordDirectory<ContainerRecord, ContainerConfig> _containerStore;
    private readonly ConcurrentDictionary<string, SandboxEntry> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ContainerEntry> _containers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _reservedNames = new(StringComparer.Ordinal);
    private readonly KeyedLocks _locks = new();
    private readonly Cgroups.PodCgroup? _podCgroups;

    /// <summary>Read once: whether AppArmor and SELinux are enabled does not change while the node runs.</summary>
    private readonly Containers.LinuxSecurityModules _securityModules = Containers.LinuxSecurityModules.Detect();

    public SandboxManager(SandboxManagerOptions options, IContainerRuntime runtime, INamespacePinner pinner, IMounter mounter, ICniInvoker cni, ILogger logger,
        Sandboxes.IPodInfra? infra = null)
    {
        _infra = infra ?? new Sandboxes.PodInfraLauncher(options.RuntimeExecutable);
        _options = options;
        _runtime = runtime;
        _pinner = pinner;
        _mounter = mounter;
        _cni = cni;
        _logger = logger;
        _podCgroups = options.PodCgroupHierarchy is { } cgroups ? new Cgroups.PodCgroup(cgroups) : null;
        _sandboxStore = new RecordDirectory<SandboxRecord, PodSandboxConfig>(Path.Combine(options.RootDirectory, "pods"),
            "sandbox.json", StoreJsonContext.Default.SandboxRecord, PodSandboxConfig.Parser);
        _containerStore = new RecordDirectory<ContainerRecord, ContainerConfig>(options.ContainersDirectory,
            "container.json", StoreJsonContext.Default.ContainerRecord, ContainerConfig.Parser);
        Recover();
        StartExitWatcher();
    }

    private string SandboxStateDirectory(string id) => Path.Combine(_options.StateDirectory, "pods", id);

    private string BundleDirectory(string id) => Path.Combine(_options.StateDirectory, "containers", id);

    private static string SandboxName(PodSandboxMetadata metadata) =>
        $"{metadata.Name}_{metadata.Namespace}_{metadata.Uid}_{metadata.Attempt}";

    private static string ContainerName(ContainerMetadata metadata, PodSandboxMetadata sandbox) =>
        $"{metadata.Name}_{sandbox.Name}_{sandbox.Namespace}_{sandbox.Uid}_{metadata.Attempt}";

    private void ReserveName(string name, string id, string kind)
    {
        if (!_reservedNames.TryAdd(name, id))
        {
            throw new AlreadyExistsException($"{kind} name {name} is reserved by {_reservedNames[name]}");
        }
    }

    private static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Full ID, or a unique prefix of one (crictl and containerd accept both).</summary>
    private static string? Resolve<T>(ConcurrentDictionary<string, T> items, string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
        {
            return null;
        }
        if (items.ContainsKey(idOrPrefix))
        {
            return idOrPrefix;
        }
        var matches = items.Keys.Where(k => k.StartsWith(idOrPrefix, StringComparison.Ordinal)).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    public IReadOnlyList<Handlers.RuntimeHandlerInfo> RuntimeHandlers =>
        _runtime is Handlers.RuntimeHandlerSet handlers ? handlers.Handlers : [new Handlers.RuntimeHandlerInfo("", OciRuntime.External.RuntimeFeatures.None)];

    public bool IsImageInUse(string imageId) =>
        _containers.Values.Any(c => c.Record.ImageId == imageId || c.Record.VolumeImageIds?.Contains(imageId) == true);

    /// <summary>
    /// Loads what the last daemon left: complete records come back as they were; directories
    /// without a complete record are half-done operations of a killed daemon and are undone.
    /// </summary>
    private void Recover()
    {
        var (sandboxes, brokenSandboxes) = _sandboxStore.LoadAll();
        foreach (var (record, config) in sandboxes)
        {
            _sandboxes[record.Id] = new SandboxEntry(record, config);
            _reservedNames.TryAdd(SandboxName(config.Metadata), record.Id);
        }
        var (containers, brokenContainers) = _containerStore.LoadAll();
        foreach (var (record, config) in containers)
        {
            _containers[record.Id] = new ContainerEntry(record, config);
            if (_sandboxes.TryGetValue(record.PodSandboxId, out var sandbox))
            {
                _reservedNames.TryAdd(ContainerName(config.Metadata, sandbox.Config.Metadata), record.Id);
            }
        }
        // Undoing half-done operations kills processes and waits for them: do it off the
        // start-up path; nothing refers to these IDs any more.
        _ = Task.Run(() => CleanUpIncompleteAsync(brokenSandboxes, brokenContainers));
        _ = Task.Run(CheckRecoveredNetworksAsync);
        Log.Recovered(_logger, _sandboxes.Count, _containers.Count);
    }

    private async Task CleanUpIncompleteAsync(IReadOnlyList<string> sandboxIds, IReadOnlyList<string> containerIds)
    {
        foreach (var id in containerIds)
        {
            Log.RemovingIncomplete(_logger, "container", id);
            try
            {
                await _runtime.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
                _mounter.Unmount(Path.Combine(BundleDirectory(id), "rootfs"));
                DeleteTree(BundleDirectory(id));
                _containerStore.Delete(id);
            }
            catch (Exception exception) when (exception is IOException or CriOciException or OciRuntime.Linux.SyscallException)
            {
                Log.RollbackStepFailed(_logger, $"remove incomplete container {id}", exception);
            }
        }
        foreach (var id in sandboxIds)
        {
            Log.RemovingIncomplete(_logger, "pod sandbox", id);
            try
            {
                await StopPodInfraAsync(id, recorded: null).ConfigureAwait(false);
                await ReleaseNetworkAsync(id).ConfigureAwait(false);
                ReleaseSandboxResources(id);
                _sandboxStore.Delete(id);
            }
            catch (Exception exception) when (exception is IOException or CriOciException or OciRuntime.Linux.SyscallException)
            {
                Log.RollbackStepFailed(_logger, $"remove incomplete pod sandbox {id}", exception);
            }
        }
    }

    /// <summary>
    /// The CNI attachment's cache lives with the pod's persistent record, not on tmpfs: the IPAM
    /// allocations it releases (host-local's /var/lib/cni/networks) survive a reboot too.
    /// </summary>
    private string NetworkCacheDirectory(string id) => _sandboxStore.PathOf(id);

    /// <summary>
    /// CNI DEL if an ADD was started and not undone yet. It must finish once started (a plugin
    /// killed half-way leaves more behind), so it is bounded by the plugin timeout, not the caller.
    /// </summary>
    private Task ReleaseNetworkAsync(string id) =>
        _cni.HasAttachment(NetworkCacheDirectory(id))
            ? _cni.DeleteAsync(NetworkCacheDirectory(id), CancellationToken.None)
            : Task.CompletedTask;

    public Task<NetworkReadiness> NetworkStatusAsync(CancellationToken cancellationToken) => _cni.StatusAsync(cancellationToken);

    public void UpdatePodCidr(string podCidr) => _cni.SetPodCidr(podCidr);

    private void ReleaseSandboxResources(string id)
    {
        var state = SandboxStateDirectory(id);
        _pinner.Unpin(Path.Combine(state, "ns"));
        _mounter.Unmount(Path.Combine(state, "shm"));
        DeleteTree(state);
        RemovePodCgroup(id);
    }

    private static void DeleteTree(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
