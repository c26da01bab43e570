using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>An address on an interface with its prefix length (10.87.0.1/16: host bits set, so not an IPNetwork).</summary>
internal readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}

/// <summary>Addresses and routes over rtnetlink (RTM_*ADDR, RTM_NEWROUTE).</summary>
internal static class AddressCalls
{
    /// <summary>The addresses of <paramref name="family"/> on the link <paramref name="index"/>, with their prefix lengths.</summary>
    public static List<InterfaceAddress> List(NetlinkSocket socket, int index, AddressFamily family)
    {
        var request = new NetlinkMessageBuilder(Rtnetlink.RTM_GETADDR, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_DUMP)
            .IfAddr(FamilyByte(family), 0, 0);
        var addresses = new List<InterfaceAddress>();
        foreach (var reply in socket.Dump(request, "list addresses"))
        {
            var payload = reply.Payload;
            if (payload.Length < Rtnetlink.IfAddrMsgLength || BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(4)) != index)
            {
                continue;
            }
            var attributes = NetlinkMessageReader.Attributes(payload.AsSpan(Rtnetlink.IfAddrMsgLength));
            // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
            if ((attributes.GetValueOrDefault(Rtnetlink.IFA_LOCAL) ?? attributes.GetValueOrDefault(Rtnetlink.IFA_ADDRESS)) is { } bytes)
            {
                addresses.Add(new InterfaceAddress(new IPAddress(bytes), payload[1]));
            }
        }
        return addresses;
    }

    /// <summary>Adds <paramref name="address"/>/<paramref name="prefixLength"/>; throws with EEXIST when the link has it already.</summary>
    public static void Add(NetlinkSocket socket, int index, string linkName, IPAddress address, int prefixLength) =>
        socket.Request(AddMessage(index, address, prefixLength), $"add address {address}/{prefixLength} to {linkName}");

    public static NetlinkMessageBuilder AddMessage(int index, IPAddress address, int prefixLength)
    {
        var message = new NetlinkMessageBuilder(Rtnetlink.RTM_NEWADDR, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL)
            .IfAddr(FamilyByte(address.AddressFamily), (byte)prefixLength, index)
            .Attribute(Rtnetlink.IFA_LOCAL, address)
            .Attribute(Rtnetlink.IFA_ADDRESS, address);
        if (address.AddressFamily == AddressFamily.InterNetwork && prefixLength < 31)
        {
            message.Attribute(Rtnetlink.IFA_BROADCAST, Broadcast(address, prefixLength));
        }
        return message;
    }

    /// <summary>Adds a route to <paramref name="destination"/> via <paramref name="gateway"/> out of link <paramref name="index"/>; an identical one already there is fine (the first wins, as with the bridge plugin).</summary>
    public static void AddRoute(NetlinkSocket socket, IPNetwork destination, IPAddress gateway, int index, string linkName)
    {
        try
        {
            socket.Request(AddRouteMessage(destination, gateway, index), $"add route {destination} via {gateway} dev {linkName}");
        }
        catch (NetlinkException exception) when (exception.Errno == Errno.EEXIST)
        {
        }
    }

    public static NetlinkMessageBuilder AddRouteMessage(IPNetwork destination, IPAddress gateway, int index) =>
        new NetlinkMessageBuilder(Rtnetlink.RTM_NEWROUTE, Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL)
            .RtMsg(FamilyByte(destination.BaseAddress.AddressFamily), (byte)destination.PrefixLength)
            .Attribute(Rtnetlink.RTA_DST, destination.BaseAddress)
            .Attribute(Rtnetlink.RTA_GATEWAY, gateway)
            .Attribute(Rtnetlink.RTA_OIF, (uint)index);

    public static IPAddress Broadcast(IPAddress address, int prefixLength)
    {
        var value = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
        var host = prefixLength == 0 ? uint.MaxValue : (1u << (32 - prefixLength)) - 1;
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value | host);
        return new IPAddress(bytes);
    }

    private static byte FamilyByte(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? (byte)Rtnetlink.AF_INET6 : (byte)Rtnetlink.AF_INET;
}
