using System.Net;
using System.Net.Sockets;
using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// hostPort conflicts, found before ADD: portmap only writes DNAT rules and never binds, so a
/// port already used on the node, or by another pod, would silently shadow or be shadowed.
/// (kubelet's old hostport manager and CRI-O check the same way: try to bind the port.)
/// </summary>
internal static class HostPorts
{
    /// <summary>Throws <see cref="FailedPreconditionException"/> naming the first hostPort that is taken.</summary>
    public static void EnsureFree(IEnumerable<PortMapping> wanted, IEnumerable<PortMapping> usedByOtherPods)
    {
        var used = usedByOtherPods.Where(m => m.HostPort > 0).Select(Key).ToList();
        var seen = new HashSet<(int, Protocol, string)>();
        foreach (var mapping in wanted.Where(m => m.HostPort > 0))
        {
            var key = Key(mapping);
            if (!seen.Add(key))
            {
                throw new InvalidArgumentException($"port_mappings: hostPort {Describe(mapping)} is given twice");
            }
            // The same port and protocol clash when either side listens on every address.
            if (used.Any(u => u.Item1 == key.Item1 && u.Item2 == key.Item2 && (u.Item3 == key.Item3 || u.Item3 == "" || key.Item3 == "")))
            {
                throw new FailedPreconditionException($"hostPort {Describe(mapping)} is already used by another pod on this node");
            }
            if (!CanBind(mapping))
            {
                throw new FailedPreconditionException($"hostPort {Describe(mapping)} is already in use on the host");
            }
        }
    }

    private static (int, Protocol, string) Key(PortMapping mapping) => (mapping.HostPort, mapping.Protocol, mapping.HostIp ?? "");

    private static string Describe(PortMapping mapping) =>
        $"{(string.IsNullOrEmpty(mapping.HostIp) ? "" : mapping.HostIp + ":")}{mapping.HostPort}/{mapping.Protocol.ToString().ToLowerInvariant()}";

    /// <summary>SCTP is not probed: binding it needs the sctp module, which may not be loaded.</summary>
    private static bool CanBind(PortMapping mapping)
    {
        if (mapping.Protocol == Protocol.Sctp)
        {
            return true;
        }
        IPAddress? address = IPAddress.IPv6Any;
        if (!string.IsNullOrEmpty(mapping.HostIp) && !IPAddress.TryParse(mapping.HostIp, out address))
        {
            throw new InvalidArgumentException($"port_mappings: hostIP {mapping.HostIp} is not an IP address");
        }
        using var socket = mapping.Protocol == Protocol.Udp
            ? new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
            : new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }
        try
        {
            socket.Bind(new IPEndPoint(address, mapping.HostPort));
            return true;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            throw new InvalidArgumentException($"port_mappings: hostIP {mapping.HostIp} is not an address of this node");
        }
    }
}
