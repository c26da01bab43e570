using System.Buffers.Binary;
using System.Text;

namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>One message of a netlink reply: its header fields and the bytes after the nlmsghdr.</summary>
internal readonly record struct NetlinkReply(ushort Type, ushort Flags, uint Sequence, byte[] Payload);

/// <summary>
/// Reads what the kernel sends back: a datagram holds one or more messages, each an nlmsghdr and
/// its payload; attributes are (length, type, value) padded to 4 bytes. Pure, for unit tests.
/// </summary>
internal static class NetlinkMessageReader
{
    public static List<NetlinkReply> Messages(ReadOnlySpan<byte> datagram)
    {
        var messages = new List<NetlinkReply>();
        var offset = 0;
        while (datagram.Length - offset >= Rtnetlink.NlMsgHeaderLength)
        {
            var header = datagram[offset..];
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (length < Rtnetlink.NlMsgHeaderLength || length > header.Length)
            {
                throw new NetlinkException($"netlink reply is malformed: message length {length} at offset {offset} of {datagram.Length}");
            }
            messages.Add(new NetlinkReply(
                BinaryPrimitives.ReadUInt16LittleEndian(header[4..]),
                BinaryPrimitives.ReadUInt16LittleEndian(header[6..]),
                BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
                header[Rtnetlink.NlMsgHeaderLength..length].ToArray()));
            offset += Rtnetlink.Align(length);
        }
        return messages;
    }

    /// <summary>The attributes in <paramref name="bytes"/> by type (the first of each type wins); nested ones are left as bytes.</summary>
    public static Dictionary<ushort, byte[]> Attributes(ReadOnlySpan<byte> bytes)
    {
        var attributes = new Dictionary<ushort, byte[]>();
        var offset = 0;
        while (bytes.Length - offset >= Rtnetlink.RtAttrHeaderLength)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(offset + 2)..]) & ~Rtnetlink.NLA_F_NESTED);
            if (length < Rtnetlink.RtAttrHeaderLength || offset + length > bytes.Length)
            {
                break;
            }
            attributes.TryAdd(type, bytes[(offset + Rtnetlink.RtAttrHeaderLength)..(offset + length)].ToArray());
            offset += Rtnetlink.Align(length);
        }
        return attributes;
    }

    /// <summary>
    /// An NLMSG_ERROR's errno (0 is the ACK) and, when the kernel sent extended-ack attributes
    /// (NETLINK_EXT_ACK), its own explanation ("Unknown device type", ...).
    /// </summary>
    public static (int Errno, string? Message) Error(NetlinkReply reply)
    {
        var payload = reply.Payload;
        if (payload.Length < 4)
        {
            throw new NetlinkException("netlink error message is truncated");
        }
        var error = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if ((reply.Flags & Rtnetlink.NLM_F_ACK_TLVS) == 0 || payload.Length < 4 + Rtnetlink.NlMsgHeaderLength)
        {
            return (-error, null);
        }
        // The request is echoed after the errno: whole, or only its header when capped.
        var echoed = (reply.Flags & Rtnetlink.NLM_F_CAPPED) != 0
            ? Rtnetlink.NlMsgHeaderLength
            : (int)BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(4));
        var start = 4 + Rtnetlink.Align(echoed);
        if (start > payload.Length)
        {
            return (-error, null);
        }
        var message = Attributes(payload.AsSpan(start)).TryGetValue(Rtnetlink.NLMSGERR_ATTR_MSG, out var text)
            ? Encoding.UTF8.GetString(text).TrimEnd('\0')
            : null;
        return (-error, message);
    }

    public static string String(byte[] value) => Encoding.ASCII.GetString(value).TrimEnd('\0');

    public static uint UInt32(byte[] value) => BinaryPrimitives.ReadUInt32LittleEndian(value);
}
