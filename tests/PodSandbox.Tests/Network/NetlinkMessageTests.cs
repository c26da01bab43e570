using System.Buffers.Binary;
using System.Net;
using CriOci.PodSandbox.Network.Netlink;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>The bytes of rtnetlink requests and the reading of replies, checked against the kernel's UAPI layout.</summary>
public sealed class NetlinkMessageTests
{
    [Fact]
    public void Build_HairpinRequest_HeaderIfInfoAndNestedPortMode()
    {
        var bytes = LinkCalls.HairpinMessage(portIndex: 7, on: true).Build(sequence: 42);

        // nlmsghdr 16 + ifinfomsg 16 + nest header 4 + (u8 attribute 5, padded to 8) = 44.
        Assert.Equal(44, bytes.Length);
        Assert.Equal(44u, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(Rtnetlink.RTM_SETLINK, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(42u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(Rtnetlink.AF_BRIDGE, bytes[16]);
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(12, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(Rtnetlink.IFLA_PROTINFO | Rtnetlink.NLA_F_NESTED, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(34)));
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(36)));
        Assert.Equal(Rtnetlink.IFLA_BRPORT_MODE, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(38)));
        Assert.Equal([1, 0, 0, 0], bytes[40..44]);
    }

    [Fact]
    public void Build_VethRequest_PeerNestedWithItsOwnIfInfoNameAndNamespaceFd()
    {
        var bytes = LinkCalls.CreateVethMessage("veth0a1b2c3d", masterIndex: 5, "eth0", peerNamespaceFd: 9).Build(1);

        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_ACK | Rtnetlink.NLM_F_CREATE | Rtnetlink.NLM_F_EXCL,
            BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        var top = NetlinkMessageReader.Attributes(bytes.AsSpan(Rtnetlink.NlMsgHeaderLength + Rtnetlink.IfInfoMsgLength));
        Assert.Equal("veth0a1b2c3d", NetlinkMessageReader.String(top[Rtnetlink.IFLA_IFNAME]));
        Assert.Equal(5u, NetlinkMessageReader.UInt32(top[Rtnetlink.IFLA_MASTER]));
        var linkInfo = NetlinkMessageReader.Attributes(top[Rtnetlink.IFLA_LINKINFO]);
        Assert.Equal("veth", NetlinkMessageReader.String(linkInfo[Rtnetlink.IFLA_INFO_KIND]));
        var peer = NetlinkMessageReader.Attributes(linkInfo[Rtnetlink.IFLA_INFO_DATA])[Rtnetlink.VETH_INFO_PEER];
        Assert.Equal(Rtnetlink.AF_UNSPEC, peer[0]);
        var peerAttributes = NetlinkMessageReader.Attributes(peer.AsSpan(Rtnetlink.IfInfoMsgLength));
        Assert.Equal("eth0", NetlinkMessageReader.String(peerAttributes[Rtnetlink.IFLA_IFNAME]));
        Assert.Equal(9u, NetlinkMessageReader.UInt32(peerAttributes[Rtnetlink.IFLA_NET_NS_FD]));
        Assert.Equal(0, bytes.Length % 4);
    }

    [Fact]
    public void Build_IPv4Address_LocalAddressAndBroadcast()
    {
        var bytes = AddressCalls.AddMessage(3, IPAddress.Parse("10.87.0.5"), 16).Build(1);

        Assert.Equal(Rtnetlink.AF_INET, bytes[16]);
        Assert.Equal(16, bytes[17]);
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(20)));
        var attributes = NetlinkMessageReader.Attributes(bytes.AsSpan(Rtnetlink.NlMsgHeaderLength + Rtnetlink.IfAddrMsgLength));
        Assert.Equal([10, 87, 0, 5], attributes[Rtnetlink.IFA_LOCAL]);
        Assert.Equal([10, 87, 0, 5], attributes[Rtnetlink.IFA_ADDRESS]);
        Assert.Equal([10, 87, 255, 255], attributes[Rtnetlink.IFA_BROADCAST]);
    }

    [Fact]
    public void Build_IPv6DefaultRoute_MainTableBootProtocolGatewayAndDevice()
    {
        var bytes = AddressCalls.AddRouteMessage(IPNetwork.Parse("::/0"), IPAddress.Parse("fd00::1"), 4).Build(1);

        Assert.Equal([Rtnetlink.AF_INET6, 0, 0, 0, Rtnetlink.RT_TABLE_MAIN, Rtnetlink.RTPROT_BOOT, Rtnetlink.RT_SCOPE_UNIVERSE, Rtnetlink.RTN_UNICAST], bytes[16..24]);
        var attributes = NetlinkMessageReader.Attributes(bytes.AsSpan(Rtnetlink.NlMsgHeaderLength + Rtnetlink.RtMsgLength));
        Assert.Equal(IPAddress.Parse("fd00::1").GetAddressBytes(), attributes[Rtnetlink.RTA_GATEWAY]);
        Assert.Equal(4u, NetlinkMessageReader.UInt32(attributes[Rtnetlink.RTA_OIF]));
        Assert.Equal(new byte[16], attributes[Rtnetlink.RTA_DST]);
    }

    [Fact]
    public void Error_ExtendedAck_ErrnoAndKernelMessage()
    {
        // NLMSG_ERROR with errno -EEXIST, a capped echo (header only) and NLMSGERR_ATTR_MSG.
        var payload = new List<byte>();
        payload.AddRange(BitConverter.GetBytes(-17));
        payload.AddRange(new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, 0).Build(5));
        var text = "File exists\0"u8.ToArray();
        payload.AddRange(BitConverter.GetBytes((ushort)(4 + text.Length)));
        payload.AddRange(BitConverter.GetBytes(Rtnetlink.NLMSGERR_ATTR_MSG));
        payload.AddRange(text);
        var reply = new NetlinkReply(Rtnetlink.NLMSG_ERROR, Rtnetlink.NLM_F_CAPPED | Rtnetlink.NLM_F_ACK_TLVS, 5, [.. payload]);

        var (errno, message) = NetlinkMessageReader.Error(reply);

        Assert.Equal(17, errno);
        Assert.Equal("File exists", message);
    }

    [Fact]
    public void Messages_TwoInOneDatagram_BothWithPaddingSkipped()
    {
        var first = new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_MULTI).Attribute(Rtnetlink.IFLA_IFNAME, "ab").Build(3);
        var second = new NetlinkMessageBuilder(Rtnetlink.NLMSG_DONE, Rtnetlink.NLM_F_MULTI).Build(3);

        var messages = NetlinkMessageReader.Messages([.. first, .. second]);

        Assert.Equal([Rtnetlink.RTM_NEWLINK, Rtnetlink.NLMSG_DONE], messages.Select(m => m.Type));
        Assert.Equal("ab", NetlinkMessageReader.String(NetlinkMessageReader.Attributes(messages[0].Payload)[Rtnetlink.IFLA_IFNAME]));
    }

    [Fact]
    public void Messages_LengthBeyondDatagram_ThrowsMalformed()
    {
        var bytes = new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, 0).Build(1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 400);

        Assert.Throws<NetlinkException>(() => NetlinkMessageReader.Messages(bytes));
    }

    [Fact]
    public void Build_NestLeftOpen_Throws() =>
        Assert.Throws<InvalidOperationException>(() => new NetlinkMessageBuilder(Rtnetlink.RTM_NEWLINK, 0).BeginNest(Rtnetlink.IFLA_LINKINFO).Build(1));
}
