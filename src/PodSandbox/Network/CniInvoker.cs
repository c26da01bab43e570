using System.Text.Json.Nodes;
using CriOci.Core;
using CriOci.Cri.V1;
using Microsoft.Extensions.Logging;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// Runs the chained plugins of the node's network for pods (SPEC.md "Section 4: Plugin
/// Delegation" / "Attachment"): ADD in list order, each plugin given the previous one's result as
/// prevResult; DEL in reverse order with the cached ADD result; STATUS from CNI 1.1.0 on.
/// </summary>
/// <param name="masquerade">The default network's node-wide source NAT; null: iptables (tests pass a fake, so they leave the host's nat table alone).</param>
/// <param name="nativeBridge">The built-in network's bridge step done in-process; null: <see cref="NativeBridge"/> when <see cref="CniOptions.NativeDefaultNetwork"/> is on.</param>
internal sealed class CniInvoker(CniOptions options, ILogger logger, INodeMasquerade? masquerade = null, INativeBridge? nativeBridge = null) : ICniInvoker
{
    public const string InterfaceName = "eth0";

    private readonly INodeMasquerade _masquerade = masquerade ?? new IptablesNodeMasquerade();

    private readonly CniConfigLoader _loader = new(options.ConfigDirectory);

    private readonly INativeBridge? _nativeBridge = nativeBridge ?? (options.NativeDefaultNetwork ? new NativeBridge() : null);

    /// <summary>kubelet's pod CIDR(s) from UpdateRuntimeConfig; empty until it sends one.</summary>
    private volatile IReadOnlyList<string> _podSubnets = [];

    private string CniPath => string.Join(':', options.PluginDirectories);

    public async Task<CniAttachment> AddAsync(CniPodRequest pod, string cacheDirectory, CancellationToken cancellationToken)
    {
        var loaded = _loader.Load();
        var network = loaded.Network ?? throw new UnavailableException($"pod network is not ready: {loaded.Error}");
        // The cache below records the plugins actually run, so DEL runs the same list.
        if (loaded.WithoutPortMappings is { } withoutPortMap && !pod.PortMappings.Any(m => m.HostPort > 0))
        {
            network = withoutPortMap;
        }
        using var addSpan = Telemetry.CniSpans.Start("cni.add", network.Name);
        if (loaded.MasqueradeSubnets is { } subnets)
        {
            // Once per subnet per daemon; afterwards a set lookup.
            await _masquerade.EnsureAsync(subnets, cancellationToken).ConfigureAwait(false);
        }
        // Only the network we own, never an admin's conflist, even one that looks the same.
        var native = _nativeBridge is not null && loaded.MasqueradeSubnets is not null ? NativeBridgeConfig.TryFrom(network) : null;
        var executables = network.Plugins.Select((p, i) => native is not null && i == 0 ? null : FindPlugin(network, p)).ToList();
        var entry = new CniCacheEntry(1, pod.PodSandboxId, InterfaceName, pod.NetworkNamespace, CniArgs(pod),
            network.Json, RuntimeConfig(pod, _podSubnets).ToJsonString(), Result: null, NativeBridge: native is null ? null : true);
        // Cached before the first plugin runs: whatever ADD leaves half done, DEL can find.
        CniCache.Write(cacheDirectory, entry);
        var runtimeConfig = JsonNode.Parse(entry.RuntimeConfig)!.AsObject();
        JsonNode? previous = null;
        for (var i = 0; i < network.Plugins.Count; i++)
        {
            if (executables[i] is not { } executable)
            {
                using (var call = Telemetry.CniPluginCall.InProcess(CniNetworkConfig.TypeOf(network.Plugins[i]), "ADD"))
                {
                    previous = await _nativeBridge!.AddAsync(native!, entry, network.CniVersion, cancellationToken).ConfigureAwait(false);
                    call.Succeeded();
                }
                continue;
            }
            var stdin = PluginStdin(network, network.Plugins[i], runtimeConfig, previous);
            var output = await CniPluginProcess.RunAsync(executable, Environment("ADD", entry), stdin, options.PluginTimeout, cancellationToken).ConfigureAwait(false);
            try
            {
                previous = JsonNode.Parse(output) as JsonObject ?? throw new UnavailableException("not a JSON object");
            }
            catch (System.Text.Json.JsonException exception)
            {
                throw new UnavailableException($"CNI plugin {CniNetworkConfig.TypeOf(network.Plugins[i])} ADD printed an invalid result: {exception.Message}", exception);
            }
        }
        var result = previous?.ToJsonString() ?? "{}";
        CniCache.WriteResult(cacheDirectory, entry with { Result = result });
        var ips = CniResult.PodIps(result, InterfaceName);
        Log.NetworkAttached(logger, pod.PodSandboxId, network.Name, string.Join(",", ips));
        return new CniAttachment(ips);
    }

    public bool HasAttachment(string cacheDirectory) => File.Exists(CniCache.PathIn(cacheDirectory));

    public async Task DeleteAsync(string cacheDirectory, CancellationToken cancellationToken)
    {
        if (CniCache.Read(cacheDirectory) is not { } entry)
        {
            return;
        }
        var network = CniNetworkConfig.Parse(entry.Network, CniCache.PathIn(cacheDirectory), isList: true);
        using var deleteSpan = Telemetry.CniSpans.Start("cni.del", network.Name);
        // SPEC.md: DEL may be called with CNI_NETNS unset when the namespace is gone (after a reboot).
        var netnsGone = !File.Exists(entry.NetworkNamespace);
        var environmentEntry = netnsGone ? entry with { NetworkNamespace = "" } : entry;
        var runtimeConfig = JsonNode.Parse(entry.RuntimeConfig)!.AsObject();
        var previous = entry.Result is null ? null : JsonNode.Parse(entry.Result);
        var native = entry.NativeBridge == true && _nativeBridge is not null ? NativeBridgeConfig.TryFrom(network) : null;
        foreach (var plugin in network.Plugins.Reverse())
        {
            if (native is not null && ReferenceEquals(plugin, network.Plugins[0]))
            {
                using (var call = Telemetry.CniPluginCall.InProcess(CniNetworkConfig.TypeOf(plugin), "DEL"))
                {
                    await _nativeBridge!.DeleteAsync(native, environmentEntry, cancellationToken).ConfigureAwait(false);
                    call.Succeeded();
                }
                continue;
            }
            var executable = FindPlugin(network, plugin);
            var outcome = await CniPluginProcess.InvokeAsync(executable, Environment("DEL", environmentEntry),
                PluginStdin(network, plugin, runtimeConfig, previous), options.PluginTimeout, cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                if (!outcome.IsAlreadyGone && !netnsGone)
                {
                    throw outcome.ToException();
                }
                Log.NetworkDeleteTolerated(logger, entry.PodSandboxId, outcome.Plugin, outcome.Message);
            }
        }
        CniCache.Delete(cacheDirectory);
        Log.NetworkDetached(logger, entry.PodSandboxId, network.Name);
    }

    public async Task<CniCheckResult> CheckAsync(string cacheDirectory, CancellationToken cancellationToken)
    {
        if (CniCache.Read(cacheDirectory) is not { Result: { } result } entry)
        {
            return CniCheckResult.Skipped("no network attachment");
        }
        var network = CniNetworkConfig.Parse(entry.Network, CniCache.PathIn(cacheDirectory), isList: true);
        if (!network.SupportsCheck)
        {
            return CniCheckResult.Skipped($"network {network.Name}: cniVersion {network.CniVersion} has no CHECK (0.4.0 and later)");
        }
        if (network.DisableCheck)
        {
            return CniCheckResult.Skipped($"network {network.Name}: disableCheck is set");
        }
        var runtimeConfig = JsonNode.Parse(entry.RuntimeConfig)!.AsObject();
        var previous = JsonNode.Parse(result);
        // SPEC.md: CHECK runs in ADD's order, every plugin given the final cached ADD result.
        foreach (var plugin in network.Plugins)
        {
            if (CniPluginProcess.Find(CniNetworkConfig.TypeOf(plugin), options.PluginDirectories) is not { } executable)
            {
                return new CniCheckResult(true, false, $"network {network.Name}: CNI plugin {CniNetworkConfig.TypeOf(plugin)} not found in {CniPath}");
            }
            var outcome = await CniPluginProcess.InvokeAsync(executable, Environment("CHECK", entry),
                PluginStdin(network, plugin, runtimeConfig, previous), options.PluginTimeout, cancellationToken).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                return new CniCheckResult(true, false, $"network {network.Name}: {outcome.ToException().Message}");
            }
        }
        return new CniCheckResult(true, true, $"network {network.Name}: every plugin passed CHECK");
    }

    public async Task<NetworkReadiness> StatusAsync(CancellationToken cancellationToken)
    {
        var loaded = _loader.Load();
        if (loaded.Network is not { } network)
        {
            return new NetworkReadiness(false, NetworkReadiness.NotReadyReason, loaded.Error ?? "no network");
        }
        foreach (var plugin in network.Plugins)
        {
            var type = CniNetworkConfig.TypeOf(plugin);
            if (CniPluginProcess.Find(type, options.PluginDirectories) is not { } executable)
            {
                return new NetworkReadiness(false, NetworkReadiness.NotReadyReason,
                    $"network {network.Name} ({network.Source}): CNI plugin {type} not found in {CniPath}");
            }
            if (network.SupportsStatus)
            {
                var environment = new Dictionary<string, string> { ["CNI_COMMAND"] = "STATUS", ["CNI_PATH"] = CniPath };
                var outcome = await CniPluginProcess.InvokeAsync(executable, environment,
                    PluginStdin(network, plugin, new JsonObject(), null), options.PluginTimeout, cancellationToken).ConfigureAwait(false);
                if (!outcome.Succeeded)
                {
                    return new NetworkReadiness(false, NetworkReadiness.NotReadyReason,
                        $"network {network.Name} ({network.Source}): {outcome.ToException().Message}");
                }
            }
        }
        return NetworkReadiness.IsReady;
    }

    public void SetPodCidr(string podCidr)
    {
        var subnets = DefaultNetwork.ParsePodCidr(podCidr);
        _loader.SetDefaultSubnets(subnets);
        _podSubnets = subnets;
    }

    private string FindPlugin(CniNetworkConfig network, JsonObject plugin)
    {
        var type = CniNetworkConfig.TypeOf(plugin);
        return CniPluginProcess.Find(type, options.PluginDirectories)
            ?? throw new UnavailableException($"network {network.Name} ({network.Source}): CNI plugin {type} not found in {CniPath}");
    }

    private Dictionary<string, string> Environment(string command, CniCacheEntry entry) => new()
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = entry.PodSandboxId,
        ["CNI_NETNS"] = entry.NetworkNamespace,
        ["CNI_IFNAME"] = entry.InterfaceName,
        ["CNI_ARGS"] = entry.CniArgs,
        ["CNI_PATH"] = CniPath,
    };

    /// <summary>What kubelet's dockershim, containerd and CRI-O pass, so plugins like Calico or Cilium find the pod.</summary>
    internal static string CniArgs(CniPodRequest pod) =>
        $"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod.PodNamespace};K8S_POD_NAME={pod.PodName};K8S_POD_INFRA_CONTAINER_ID={pod.PodSandboxId};K8S_POD_UID={pod.PodUid}";

    /// <summary>
    /// Every capability argument we can give (SPEC.md "Deriving runtimeConfig", CONVENTIONS.md):
    /// each plugin is later given only those it declares in "capabilities".
    /// </summary>
    /// <param name="podSubnets">kubelet's pod CIDR(s): the ipRanges capability, one range set per subnet (as containerd passes them).</param>
    internal static JsonObject RuntimeConfig(CniPodRequest pod, IReadOnlyList<string> podSubnets)
    {
        var config = new JsonObject();
        var ports = new JsonArray();
        foreach (var mapping in pod.PortMappings.Where(m => m.HostPort > 0))
        {
            var port = new JsonObject
            {
                ["hostPort"] = mapping.HostPort,
                ["containerPort"] = mapping.ContainerPort,
                ["protocol"] = mapping.Protocol switch
                {
                    Protocol.Udp => "udp",
                    Protocol.Sctp => "sctp",
                    _ => "tcp",
                },
            };
            if (!string.IsNullOrEmpty(mapping.HostIp))
            {
                port["hostIP"] = mapping.HostIp;
            }
            ports.Add((JsonNode)port);
        }
        if (ports.Count > 0)
        {
            config["portMappings"] = ports;
        }
        if (Bandwidth.FromAnnotations(pod.Annotations) is { } bandwidth)
        {
            config["bandwidth"] = bandwidth;
        }
        if (pod.Dns is { } dns && (dns.Servers.Count > 0 || dns.Searches.Count > 0 || dns.Options.Count > 0))
        {
            config["dns"] = new JsonObject
            {
                ["servers"] = new JsonArray([.. dns.Servers.Select(s => (JsonNode?)JsonValue.Create(s))]),
                ["searches"] = new JsonArray([.. dns.Searches.Select(s => (JsonNode?)JsonValue.Create(s))]),
                ["options"] = new JsonArray([.. dns.Options.Select(s => (JsonNode?)JsonValue.Create(s))]),
            };
        }
        if (podSubnets.Count > 0)
        {
            // CONVENTIONS.md ipRanges: a list of range sets; host-local allocates from them instead of its own "ranges".
            config["ipRanges"] = new JsonArray([.. podSubnets.Select(subnet => (JsonNode?)new JsonArray(new JsonObject { ["subnet"] = subnet }))]);
        }
        return config;
    }

    /// <summary>
    /// The plugin's own config with the list's name and cniVersion, runtimeConfig holding only the
    /// capabilities it declares, and prevResult (SPEC.md "Deriving execution configuration").
    /// </summary>
    internal static string PluginStdin(CniNetworkConfig network, JsonObject plugin, JsonObject runtimeConfig, JsonNode? previousResult)
    {
        var stdin = plugin.DeepClone().AsObject();
        stdin["cniVersion"] = network.CniVersion;
        stdin["name"] = network.Name;
        stdin.Remove("runtimeConfig");
        stdin.Remove("prevResult");
        var granted = new JsonObject();
        foreach (var (capability, value) in runtimeConfig)
        {
            if (CniNetworkConfig.HasCapability(plugin, capability))
            {
                granted[capability] = value?.DeepClone();
            }
        }
        if (granted.Count > 0)
        {
            stdin["runtimeConfig"] = granted;
        }
        if (previousResult is not null)
        {
            stdin["prevResult"] = previousResult.DeepClone();
        }
        return stdin.ToJsonString();
    }
}
