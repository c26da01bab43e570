using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CriOci.Core;
using CriOci.OciRuntime.Linux;
using CriOci.PodSandbox.Network.HostLocal;
using CriOci.PodSandbox.Network.Netlink;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The bridge plugin's ADD and DEL (plugins/main/bridge, with isGateway, hairpinMode and
/// host-local IPAM) over rtnetlink in the daemon: the same bridge, veth pair, addresses, routes,
/// sysctls, IPAM files and result, without starting two Go processes per pod. The pod's
/// interface is created directly in its namespace (IFLA_NET_NS_FD); only the addresses, routes
/// and sysctls inside it need a thread in that namespace.
/// </summary>
/// <param name="ipamDataDirectory">host-local's data directory (tests use their own).</param>
internal sealed class NativeBridge(string ipamDataDirectory = HostLocalStore.DefaultDataDirectory) : INativeBridge
{
    /// <summary>The bridge plugin's waits for the host end to be up before it reports success (first packets are lost otherwise).</summary>
    private static readonly int[] PortUpRetriesMilliseconds = [0, 50, 500, 1000, 1000];

    private const int VethNameAttempts = 10;

    private readonly HostLocalStore _store = new(ipamDataDirectory);

    public async Task<JsonObject> AddAsync(NativeBridgeConfig config, CniCacheEntry entry, string cniVersion, CancellationToken cancellationToken)
    {
        try
        {
            return await AttachAsync(config, entry, cniVersion, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NetlinkException or SyscallException or IOException or UnauthorizedAccessException)
        {
            throw new UnavailableException($"network {config.Network}: attaching pod {entry.PodSandboxId} to bridge {config.Bridge} failed: {exception.Message}", exception);
        }
    }

    public async Task DeleteAsync(NativeBridgeConfig config, CniCacheEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            if (entry.NetworkNamespace.Length > 0 && File.Exists(entry.NetworkNamespace))
            {
                await RemovePodInterfaceAsync(entry).ConfigureAwait(false);
            }
            _store.Release(config.Network, entry.PodSandboxId, entry.InterfaceName);
        }
        catch (Exception exception) when (exception is NetlinkException or SyscallException or IOException or UnauthorizedAccessException)
        {
            throw new UnavailableException($"network {config.Network}: detaching pod {entry.PodSandboxId} failed: {exception.Message}", exception);
        }
    }

    private async Task<JsonObject> AttachAsync(NativeBridgeConfig config, CniCacheEntry entry, string cniVersion, CancellationToken cancellationToken)
    {
        using var host = NetlinkSocket.Open();
        var bridge = EnsureBridge(host, config.Bridge);
        var allocations = _store.Allocate(config.Network, entry.PodSandboxId, entry.InterfaceName, config.Ranges);
        string? hostVethName = null;
        try
        {
            using (var podNamespace = File.OpenHandle(entry.NetworkNamespace, FileMode.Open, FileAccess.Read))
            {
                hostVethName = CreateVeth(host, bridge, entry.InterfaceName, podNamespace);
            }
            var hostVeth = LinkCalls.Find(host, hostVethName) ?? throw new NetlinkException($"veth {hostVethName} vanished right after it was created");
            LinkCalls.SetUp(host, hostVeth);
            LinkCalls.SetHairpin(host, hostVeth, on: true);
            var podInterface = await NetworkNamespaceThread.RunAsync(entry.NetworkNamespace,
                () => ConfigurePodInterface(entry.InterfaceName, allocations, config.Routes)).ConfigureAwait(false);
            SetGateways(host, bridge, allocations);
            EnableForwarding(allocations);
            hostVeth = await WaitUntilUpAsync(host, hostVethName, cancellationToken).ConfigureAwait(false);
            // Re-read: the bridge's MAC may have changed with its first port or its first address.
            bridge = LinkCalls.Find(host, config.Bridge) ?? bridge;
            return Result(cniVersion, bridge, hostVeth, podInterface, entry.NetworkNamespace, allocations, config.Routes);
        }
        catch
        {
            Undo(host, hostVethName, config, entry);
            throw;
        }
    }

    /// <summary>What a failed ADD leaves is removed here, not left to DEL: the veth (its peer goes with it) and the addresses.</summary>
    private void Undo(NetlinkSocket host, string? hostVethName, NativeBridgeConfig config, CniCacheEntry entry)
    {
        try
        {
            if (hostVethName is not null)
            {
                LinkCalls.Delete(host, hostVethName);
            }
        }
        catch (NetlinkException)
        {
            // DEL finds the peer by name in the pod's namespace and removes the pair then.
        }
        _store.Release(config.Network, entry.PodSandboxId, entry.InterfaceName);
    }

    /// <summary>The bridge, created if missing, router advertisements ignored (its routes are ours), up.</summary>
    private static LinkInfo EnsureBridge(NetlinkSocket host, string name)
    {
        if (LinkCalls.Find(host, name) is not { } bridge)
        {
            LinkCalls.CreateBridge(host, name);
            bridge = LinkCalls.Find(host, name) ?? throw new NetlinkException($"bridge {name} vanished right after it was created");
        }
        if (bridge.Kind != "bridge")
        {
            throw new NetlinkException($"\"{name}\" already exists but is not a bridge");
        }
        NetworkSysctl.TryWrite($"/proc/sys/net/ipv6/conf/{name}/accept_ra", "0");
        LinkCalls.SetUp(host, bridge);
        return bridge;
    }

    /// <summary>A veth pair named like the plugin's ("veth" and 8 random hex digits), another name when that one is taken.</summary>
    private static string CreateVeth(NetlinkSocket host, LinkInfo bridge, string podInterfaceName, Microsoft.Win32.SafeHandles.SafeFileHandle podNamespace)
    {
        for (var attempt = 1; ; attempt++)
        {
            var name = "veth" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            try
            {
                LinkCalls.CreateVeth(host, name, bridge.Index, podInterfaceName, podNamespace);
                return name;
            }
            catch (NetlinkException exception) when (exception.Errno == Errno.EEXIST)
            {
                if (LinkCalls.Find(host, name) is null)
                {
                    throw new NetlinkException($"the pod's network namespace already has an interface {podInterfaceName}");
                }
                if (attempt == VethNameAttempts)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>Inside the pod's namespace: no DAD for its IPv6 addresses, ARP notify on, the interface up, addresses and routes.</summary>
    private static LinkInfo ConfigurePodInterface(string name, IReadOnlyList<IpAllocation> allocations, IReadOnlyList<JsonObject> routes)
    {
        NetworkSysctl.TryWrite($"/proc/sys/net/ipv6/conf/{name}/accept_dad", "0");
        NetworkSysctl.TryWrite($"/proc/sys/net/ipv4/conf/{name}/arp_notify", "1");
        using var pod = NetlinkSocket.Open();
        var link = LinkCalls.Find(pod, name) ?? throw new NetlinkException($"{name} is not in the pod's network namespace after its creation");
        LinkCalls.SetUp(pod, link);
        foreach (var allocation in allocations)
        {
            AddressCalls.Add(pod, link.Index, name, allocation.Address, allocation.PrefixLength);
        }
        foreach (var route in routes)
        {
            var destination = IPNetwork.Parse((string)route["dst"]!);
            var gateway = route["gw"] is JsonValue gw ? IPAddress.Parse(gw.GetValue<string>())
                : allocations.FirstOrDefault(a => a.Address.AddressFamily == destination.BaseAddress.AddressFamily)?.Gateway;
            if (gateway is not null)
            {
                AddressCalls.AddRoute(pod, destination, gateway, link.Index, name);
            }
        }
        return link;
    }

    /// <summary>Each subnet's gateway on the bridge. A different IPv4 address there, or an overlapping IPv6 one, is refused as the plugin refuses it.</summary>
    private static void SetGateways(NetlinkSocket host, LinkInfo bridge, IReadOnlyList<IpAllocation> allocations)
    {
        foreach (var allocation in allocations)
        {
            var family = allocation.Gateway.AddressFamily;
            var gateway = new InterfaceAddress(allocation.Gateway, allocation.PrefixLength);
            var present = AddressCalls.List(host, bridge.Index, family);
            if (present.Contains(gateway))
            {
                continue;
            }
            if (present.FirstOrDefault(a => family == AddressFamily.InterNetwork || Overlap(a, gateway)) is { Address: not null } other)
            {
                throw new NetlinkException($"\"{bridge.Name}\" already has an IP address ({other}) different from {gateway}");
            }
            try
            {
                AddressCalls.Add(host, bridge.Index, bridge.Name, allocation.Gateway, allocation.PrefixLength);
            }
            catch (NetlinkException exception) when (exception.Errno == Errno.EEXIST)
            {
            }
            LinkCalls.PinMac(host, bridge);
        }
    }

    private static void EnableForwarding(IReadOnlyList<IpAllocation> allocations)
    {
        if (allocations.Any(a => a.Address.AddressFamily == AddressFamily.InterNetwork))
        {
            NetworkSysctl.Ensure("/proc/sys/net/ipv4/ip_forward", "1");
        }
        if (allocations.Any(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6))
        {
            NetworkSysctl.Ensure("/proc/sys/net/ipv6/conf/all/forwarding", "1");
        }
    }

    private static async Task<LinkInfo> WaitUntilUpAsync(NetlinkSocket host, string name, CancellationToken cancellationToken)
    {
        LinkInfo? link = null;
        foreach (var delay in PortUpRetriesMilliseconds)
        {
            if (delay > 0)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
            link = LinkCalls.Find(host, name) ?? throw new NetlinkException($"veth {name} disappeared");
            if (link.OperState == Rtnetlink.IF_OPER_UP)
            {
                return link;
            }
        }
        throw new NetlinkException($"bridge port {name} in error state: operstate {link!.OperState}");
    }

    private static async Task RemovePodInterfaceAsync(CniCacheEntry entry)
    {
        try
        {
            await NetworkNamespaceThread.RunAsync(entry.NetworkNamespace, () =>
            {
                using var pod = NetlinkSocket.Open();
                return LinkCalls.Delete(pod, entry.InterfaceName);
            }).ConfigureAwait(false);
        }
        catch (SyscallException exception) when (exception.Call == "setns" && exception.Errno == Errno.EINVAL)
        {
            // The path is left but no longer a namespace (unpinned): the interface went with it.
        }
    }

    /// <summary>The result the bridge plugin prints: bridge, host veth, pod interface; addresses on the pod interface (index 2); IPAM's routes; empty DNS.</summary>
    internal static JsonObject Result(string cniVersion, LinkInfo bridge, LinkInfo hostVeth, LinkInfo podInterface, string sandbox,
        IReadOnlyList<IpAllocation> allocations, IReadOnlyList<JsonObject> routes) => new()
        {
            ["cniVersion"] = cniVersion,
            ["interfaces"] = new JsonArray(
                new JsonObject { ["name"] = bridge.Name, ["mac"] = bridge.Mac },
                new JsonObject { ["name"] = hostVeth.Name, ["mac"] = hostVeth.Mac },
                new JsonObject { ["name"] = podInterface.Name, ["mac"] = podInterface.Mac, ["sandbox"] = sandbox }),
            ["ips"] = new JsonArray([.. allocations.Select(a => (JsonNode?)new JsonObject
            {
                ["interface"] = 2,
                ["address"] = $"{a.Address}/{a.PrefixLength}",
                ["gateway"] = a.Gateway.ToString(),
            })]),
            ["routes"] = new JsonArray([.. routes.Select(r => r.DeepClone())]),
            ["dns"] = new JsonObject(),
        };

    private static bool Overlap(InterfaceAddress a, InterfaceAddress b)
    {
        var prefix = Math.Min(a.PrefixLength, b.PrefixLength);
        return Masked(a.Address, prefix).Equals(Masked(b.Address, prefix));
    }

    private static IPAddress Masked(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bits = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - bits));
        }
        return new IPAddress(bytes);
    }
}
