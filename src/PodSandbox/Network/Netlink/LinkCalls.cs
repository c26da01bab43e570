using System.Buffers.Binary;
using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>What we read back about a network interface.</summary>
/// <param name="Mac">"aa:bb:cc:dd:ee:ff", as CNI results write it.</param>
/// <param name="OperState">IF_OPER_* (RFC 2863); 6 is up.</param>
/// <param name="Kind">The rtnetlink link kind ("bridge", "veth"); null for devices without one.</param>
internal sealed record LinkInfo(int Index, string Name, string Mac, byte[] MacBytes, byte OperState, string? Kind);

/// <summary>Link operations over rtnetlink (RTM_*LINK): find, create bridge and veth pair, up, master, hairpin, delete.</summary>
internal static class LinkCalls
{
    /// <summary>The link named <paramref name="name"/> in the socket's namespace, or null when there is none.</summary>
    public static LinkInfo? Find(NetlinkSocket socket, string name)
    {
        var request = new NetlinkMessageBuilder(Rtnetlink.RTM_GETLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK)
            .IfInfo(Rtnetlink.AF_UNSPEC, 0)
            .Attribute(Rtnetlink.IFLA_IFNAME, name);
        try
        {
            var replies = socket.Request(request, $"look up link {name}");
            return replies.Count == 0 ? null : Parse(replies[0].Payload);
        }
        catch (NetlinkException exception) when (exception.Errno == ENODEV)
        {
            return null;
        }
    }

    /// <summary>Reads an RTM_NEWLINK payload: ifinfomsg, then attributes.</summary>
    public static LinkInfo Parse(byte[] payload)
    {
        var index = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(4));
        var attributes = NetlinkMessageReader.Attributes(payload.AsSpan(Rtnetlink.IfInfoMsgLength));
        var name = attributes.TryGetValue(Rtnetlink.IFLA_IFNAME, out var nameBytes) ? NetlinkMessageReader.String(nameBytes) : "";
        var mac = attributes.TryGetValue(Rtnetlink.IFLA_ADDRESS, out var macBytes) ? macBytes : [];
        var operState = attributes.TryGetValue(Rtnetlink.IFLA_OPERSTATE, out var state) && state.Length > 0 ? state[0] : (byte)0;
        string? kind = null;
        if (attributes.TryGetValue(Rtnetlink.IFLA_LINKINFO, out var linkInfo)
            && NetlinkMessageReader.Attributes(linkInfo).TryGetValue(Rtnetlink.IFLA_INFO_KIND, out var kindBytes))
        {
            kind = NetlinkMessageReader.String(kindBytes);
        }
        return new LinkInfo(index, name, FormatMac(mac), mac, operState, kind);
    }

    public static string FormatMac(byte[] mac) => string.Join(':', mac.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Creates a bridge; one that already exists (another pod got there first) is fine.</summary>
    public static void CreateBridge(NetlinkSocket socket, string name)
    {
        try
        {
            socket.Request(CreateBridgeMessage(name), $"create bridge {name}");
        }
        catch (NetlinkException exception) when (exception.Errno == Errno.EEXIST)
        {
        }
    }

    public static NetlinkMessageBuilder CreateBridgeMessage(string name) =>
        new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL)
            .IfInfo(Rtnetlink.AF_UNSPEC, 0)
            .Attribute(Rtnetlink.IFLA_IFNAME, name)
            .BeginNest(Rtnetlink.IFLA_LINKINFO)
            .Attribute(Rtnetlink.IFLA_INFO_KIND, "bridge")
            .EndNest();

    /// <summary>
    /// A veth pair: <paramref name="hostName"/> here, enslaved to <paramref name="masterIndex"/>; its
    /// peer <paramref name="peerName"/> born directly in the namespace <paramref name="peerNamespace"/>
    /// (IFLA_NET_NS_FD), so no thread has to enter the pod's namespace to create it. Both ends are
    /// created down: the kernel configures the peer before it pairs the two, and a veth without
    /// its peer refuses to go up (ENOTCONN). Transmit queue length 0 on both, as the plugin leaves
    /// them (a veth has no queue; a shaper added later sizes itself from it).
    /// </summary>
    public static void CreateVeth(NetlinkSocket socket, string hostName, int masterIndex, string peerName, SafeFileHandle peerNamespace) =>
        socket.Request(CreateVethMessage(hostName, masterIndex, peerName, (int)peerNamespace.DangerousGetHandle()),
            $"create veth pair {hostName} / {peerName}");

    public static NetlinkMessageBuilder CreateVethMessage(string hostName, int masterIndex, string peerName, int peerNamespaceFd) =>
        new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL)
            .IfInfo(Rtnetlink.AF_UNSPEC, 0)
            .Attribute(Rtnetlink.IFLA_IFNAME, hostName)
            .Attribute(Rtnetlink.IFLA_TXQLEN, 0u)
            .Attribute(Rtnetlink.IFLA_MASTER, (uint)masterIndex)
            .BeginNest(Rtnetlink.IFLA_LINKINFO)
            .Attribute(Rtnetlink.IFLA_INFO_KIND, "veth")
            .BeginNest(Rtnetlink.IFLA_INFO_DATA)
            .BeginNest(Rtnetlink.VETH_INFO_PEER)
            .IfInfo(Rtnetlink.AF_UNSPEC, 0)
            .Attribute(Rtnetlink.IFLA_IFNAME, peerName)
            .Attribute(Rtnetlink.IFLA_TXQLEN, 0u)
            .Attribute(Rtnetlink.IFLA_NET_NS_FD, (uint)peerNamespaceFd)
            .EndNest()
            .EndNest()
            .EndNest();

    public static void SetUp(NetlinkSocket socket, LinkInfo link) =>
        socket.Request(new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK)
            .IfInfo(Rtnetlink.AF_UNSPEC, link.Index, Rtnetlink.IFF_UP, Rtnetlink.IFF_UP), $"set {link.Name} up");

    /// <summary>
    /// Sets the MAC address the link already has: a bridge whose address was set explicitly keeps
    /// it, instead of taking the lowest of its ports' addresses and changing as pods come and go.
    /// </summary>
    public static void PinMac(NetlinkSocket socket, LinkInfo link) =>
        socket.Request(new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK)
            .IfInfo(Rtnetlink.AF_UNSPEC, link.Index)
            .Attribute(Rtnetlink.IFLA_ADDRESS, link.MacBytes), $"set the MAC address of {link.Name}");

    /// <summary>Hairpin mode on a bridge port: frames may go back out the port they came in by (a pod reaching itself through a service).</summary>
    public static void SetHairpin(NetlinkSocket socket, LinkInfo port, bool on) =>
        socket.Request(HairpinMessage(port.Index, on), $"set hairpin mode on {port.Name}");

    public static NetlinkMessageBuilder HairpinMessage(int portIndex, bool on) =>
        new NetlinkMessageBuilder(Rtnetlink.RTM_SETLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK)
            .IfInfo(Rtnetlink.AF_BRIDGE, portIndex)
            .BeginNest(Rtnetlink.IFLA_PROTINFO | Rtnetlink.NLA_F_NESTED)
            .Attribute(Rtnetlink.IFLA_BRPORT_MODE, on ? (byte)1 : (byte)0)
            .EndNest();

    /// <summary>Deletes the link named <paramref name="name"/>; false when there was none.</summary>
    public static bool Delete(NetlinkSocket socket, string name)
    {
        try
        {
            socket.Request(new NetlinkMessageBuilder(Rtnetlink.RTM_DELLINK, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK)
                .IfInfo(Rtnetlink.AF_UNSPEC, 0)
                .Attribute(Rtnetlink.IFLA_IFNAME, name), $"delete link {name}");
            return true;
        }
        catch (NetlinkException exception) when (exception.Errno == ENODEV)
        {
            return false;
        }
    }

    private const int ENODEV = 19;
}
