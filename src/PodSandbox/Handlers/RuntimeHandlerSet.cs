using System.Collections.Concurrent;
using CriOci.Core;
using CriOci.OciRuntime;
using CriOci.OciRuntime.External;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Spec;

namespace CriOci.PodSandbox.Handlers;

/// <summary>A handler as CRI Status lists it.</summary>
public sealed record RuntimeHandlerInfo(string Name, RuntimeFeatures Features);

/// <summary>
/// Every runtime handler, and the runtime the sandbox manager talks to: container calls go to
/// the runtime that created the container. Which one that is needs no record of its own: each
/// runtime keeps its containers' state in its own directory on tmpfs, so the owner is the one
/// that knows the ID, after a daemon restart as before it. Create alone needs the pod's
/// handler (<see cref="For"/>).
/// </summary>
public sealed class RuntimeHandlerSet : IContainerRuntime
{
    private readonly string _defaultName;
    private readonly IContainerRuntime _embedded;
    private readonly IReadOnlyDictionary<string, IContainerRuntime> _external;
    private readonly ConcurrentDictionary<string, IContainerRuntime> _owners = new(StringComparer.Ordinal);
    private readonly Lazy<IReadOnlyList<RuntimeHandlerInfo>> _handlers;

    /// <param name="podUserNamespaces">
    /// Whether the daemon does its part of a pod's own user namespace (<see cref="PodUserNamespacesWork"/>):
    /// without it no handler can run such a pod, whatever the runtime binary supports.
    /// </param>
    public RuntimeHandlerSet(string defaultName, IContainerRuntime embedded, IReadOnlyDictionary<string, IContainerRuntime> external,
        bool podUserNamespaces = false)
        : this(defaultName, embedded, external, () => podUserNamespaces)
    {
    }

    /// <param name="podUserNamespaces">Asked once, with the first question about the handlers (it may probe the kernel).</param>
    public RuntimeHandlerSet(string defaultName, IContainerRuntime embedded, IReadOnlyDictionary<string, IContainerRuntime> external,
        Func<bool> podUserNamespaces)
    {
        _defaultName = defaultName;
        _embedded = embedded;
        _external = external;
        // Probing runs each binary once; Status is the first to ask, not the daemon's start.
        _handlers = new Lazy<IReadOnlyList<RuntimeHandlerInfo>>(() => Describe(podUserNamespaces()));
    }

    private IReadOnlyList<RuntimeHandlerInfo> Describe(bool podUserNamespaces) =>
        [
            // The embedded runtime makes "rro" mounts wherever the kernel has mount_setattr
            // (5.12+), the same test its `features` answers with.
            new RuntimeHandlerInfo(_defaultName, new RuntimeFeatures(
                RecursiveReadOnlyMounts: OciRuntime.Init.RecursiveMountAttributes.KernelSupports(), UserNamespaces: podUserNamespaces)),
            .. _external.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new RuntimeHandlerInfo(pair.Key,
                FeaturesOf(pair.Value, podUserNamespaces))),
        ];

    /// <summary>What an external binary says it supports, less user namespaces when the daemon cannot do its part.</summary>
    private static RuntimeFeatures FeaturesOf(IContainerRuntime runtime, bool podUserNamespaces)
    {
        var probed = runtime is ExternalRuntime external ? RuntimeFeatures.Probe(external.Binary) : RuntimeFeatures.None;
        return probed with { UserNamespaces = probed.UserNamespaces && podUserNamespaces };
    }

    /// <summary>The daemon's handlers: the embedded runtime, and one <see cref="ExternalRuntime"/> per configured binary.</summary>
    /// <param name="layerDirectory">Where image layers are unpacked: a pod's own user namespace needs them id-mapped (<see cref="PodUserNamespacesWork"/>).</param>
    public static RuntimeHandlerSet Create(RuntimeHandlerOptions options, IContainerRuntime embedded, string runtimeExecutable, string stateDirectory,
        string layerDirectory) =>
        new(options.DefaultName, embedded, options.External.ToDictionary(
            pair => pair.Key,
            pair => (IContainerRuntime)new ExternalRuntime(new ExternalRuntimeOptions(
                new ExternalBinary(pair.Value.Path, options.RootOf(pair.Key, stateDirectory), pair.Value.ExtraArgs ?? []),
                runtimeExecutable,
                RuntimeHandlerOptions.MonitorStateOf(pair.Key, stateDirectory))),
            StringComparer.Ordinal), () => PodUserNamespacesWork(layerDirectory));

    /// <summary>The embedded handler first (it is the default), then the external ones by name.</summary>
    public IReadOnlyList<RuntimeHandlerInfo> Handlers => _handlers.Value;

    /// <summary>
    /// Whether the daemon can run pods in their own user namespace here (the pod's pinned user
    /// namespace, id-mapped image layers and volumes): the kernel and the layers' file system
    /// must take id-mapped overlay layers. Otherwise a pod asking for one is refused with
    /// Unimplemented rather than run in the host's.
    /// </summary>
    public static bool PodUserNamespacesWork(string layerDirectory) => OciRuntime.Linux.IdmappedBind.WorksFor(layerDirectory);

    /// <summary>Whether <paramref name="handler"/> runs pods in their own user namespace (CRI Status lists the same).</summary>
    public bool SupportsUserNamespaces(string handler)
    {
        var name = string.IsNullOrEmpty(handler) ? _defaultName : handler;
        return Handlers.FirstOrDefault(h => h.Name == name)?.Features.UserNamespaces == true;
    }

    /// <summary>Whether RunPodSandbox may use <paramref name="handler"/>; InvalidArgument naming it otherwise.</summary>
    public void Check(string handler) => _ = For(handler);

    /// <summary>The runtime of <paramref name="handler"/> ("" and the default name are the embedded one).</summary>
    public IContainerRuntime For(string handler)
    {
        if (string.IsNullOrEmpty(handler) || handler == _defaultName)
        {
            return _embedded;
        }
        return _external.TryGetValue(handler, out var runtime) ? runtime
            : throw new InvalidArgumentException(
                $"runtime_handler \"{handler}\" is not configured on this node (known: {string.Join(", ", Handlers.Select(h => $"\"{h.Name}\""))})");
    }

    /// <summary>Creates the container with its pod's handler and remembers the owner.</summary>
    public async Task<int> CreateAsync(string handler, string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken)
    {
        var runtime = For(handler);
        var pid = await runtime.CreateAsync(id, bundle, logPath, io, cancellationToken).ConfigureAwait(false);
        _owners[id] = runtime;
        return pid;
    }

    /// <summary>Without a handler: the embedded runtime (callers that know the pod use the overload with one).</summary>
    public Task<int> CreateAsync(string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken) =>
        CreateAsync("", id, bundle, logPath, io, cancellationToken);

    /// <summary>
    /// The runtime that holds <paramref name="id"/>: the remembered one, else the first that
    /// knows it (after a restart), else the embedded one, whose answers for an unknown ID
    /// (null state, NotFound) are every runtime's.
    /// </summary>
    private IContainerRuntime Owner(string id)
    {
        if (_owners.TryGetValue(id, out var known))
        {
            return known;
        }
        foreach (var runtime in _external.Values)
        {
            if (runtime.GetState(id) is not null)
            {
                return _owners[id] = runtime;
            }
        }
        return _embedded;
    }

    public Task StartAsync(string id, CancellationToken cancellationToken) => Owner(id).StartAsync(id, cancellationToken);

    public RuntimeContainerState? GetState(string id) => Owner(id).GetState(id);

    public void Kill(string id, int signal) => Owner(id).Kill(id, signal);

    public Task<bool> WaitForExitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken) =>
        Owner(id).WaitForExitAsync(id, timeout, cancellationToken);

    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await Owner(id).DeleteAsync(id, cancellationToken).ConfigureAwait(false);
        _owners.TryRemove(id, out _);
    }

    public Task ReopenLogAsync(string id, string logPath, CancellationToken cancellationToken) =>
        Owner(id).ReopenLogAsync(id, logPath, cancellationToken);

    public void UpdateResources(string id, ResourcesSpec resources) => Owner(id).UpdateResources(id, resources);

    public OciRuntime.Cgroups.CgroupStats? Stats(string id) => Owner(id).Stats(id);

    public Task<ExecResult> ExecAsync(string id, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken) =>
        Owner(id).ExecAsync(id, process, timeout, cancellationToken);

    public Task<InteractiveProcess> ExecInteractiveAsync(string id, ProcessSpec process, bool stdin, CancellationToken cancellationToken) =>
        Owner(id).ExecInteractiveAsync(id, process, stdin, cancellationToken);

    public Task<AttachConnection> AttachAsync(string id, CancellationToken cancellationToken) => Owner(id).AttachAsync(id, cancellationToken);
}
