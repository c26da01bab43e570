using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>
/// Builds one rtnetlink request: the nlmsghdr, the family header (ifinfomsg, ifaddrmsg or rtmsg)
/// and its attributes, nested ones included, in host byte order and 4-byte alignment
/// (linux/netlink.h NLMSG_ALIGN, NLA_ALIGN). Pure: no socket, so its bytes are unit-tested.
/// </summary>
internal sealed class NetlinkMessageBuilder
{
    private readonly List<byte> _bytes = new(256);
    private readonly Stack<int> _openNests = new();

    public NetlinkMessageBuilder(ushort type, ushort flags)
    {
        // nlmsg_len (patched in Build), type, flags, seq (set by the socket), pid 0: the kernel.
        AppendUInt32(0);
        AppendUInt16(type);
        AppendUInt16(flags);
        AppendUInt32(0);
        AppendUInt32(0);
    }

    /// <summary>struct ifinfomsg: family, padding, device type, index, flags and the mask of flags to change.</summary>
    public NetlinkMessageBuilder IfInfo(byte family, int index, uint flags = 0, uint change = 0)
    {
        _bytes.Add(family);
        _bytes.Add(0);
        AppendUInt16(0);
        AppendUInt32(unchecked((uint)index));
        AppendUInt32(flags);
        AppendUInt32(change);
        return this;
    }

    /// <summary>struct ifaddrmsg: family, prefix length, flags, scope, index.</summary>
    public NetlinkMessageBuilder IfAddr(byte family, byte prefixLength, int index)
    {
        _bytes.Add(family);
        _bytes.Add(prefixLength);
        _bytes.Add(0);
        _bytes.Add(Rtnetlink.RT_SCOPE_UNIVERSE);
        AppendUInt32(unchecked((uint)index));
        return this;
    }

    /// <summary>struct rtmsg for a unicast route in the main table.</summary>
    public NetlinkMessageBuilder RtMsg(byte family, byte destinationLength)
    {
        _bytes.Add(family);
        _bytes.Add(destinationLength);
        _bytes.Add(0);
        _bytes.Add(0);
        _bytes.Add(Rtnetlink.RT_TABLE_MAIN);
        _bytes.Add(Rtnetlink.RTPROT_BOOT);
        _bytes.Add(Rtnetlink.RT_SCOPE_UNIVERSE);
        _bytes.Add(Rtnetlink.RTN_UNICAST);
        AppendUInt32(0);
        return this;
    }

    public NetlinkMessageBuilder Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        AppendUInt16((ushort)(Rtnetlink.RtAttrHeaderLength + payload.Length));
        AppendUInt16(type);
        foreach (var b in payload)
        {
            _bytes.Add(b);
        }
        Pad();
        return this;
    }

    /// <summary>A NUL-terminated string attribute (interface names, link kinds).</summary>
    public NetlinkMessageBuilder Attribute(ushort type, string value)
    {
        var bytes = new byte[Encoding.ASCII.GetByteCount(value) + 1];
        Encoding.ASCII.GetBytes(value, bytes);
        return Attribute(type, bytes);
    }

    public NetlinkMessageBuilder Attribute(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Attribute(type, bytes);
    }

    public NetlinkMessageBuilder Attribute(ushort type, byte value) => Attribute(type, [value]);

    /// <summary>An address in network byte order (4 or 16 bytes).</summary>
    public NetlinkMessageBuilder Attribute(ushort type, IPAddress address) => Attribute(type, address.GetAddressBytes());

    /// <summary>Opens a nested attribute; <see cref="EndNest"/> fills in its length.</summary>
    public NetlinkMessageBuilder BeginNest(ushort type)
    {
        _openNests.Push(_bytes.Count);
        AppendUInt16(0);
        AppendUInt16(type);
        return this;
    }

    public NetlinkMessageBuilder EndNest()
    {
        var start = _openNests.Pop();
        var length = (ushort)(_bytes.Count - start);
        _bytes[start] = (byte)length;
        _bytes[start + 1] = (byte)(length >> 8);
        return this;
    }

    /// <summary>The message with <paramref name="sequence"/> and its total length filled in.</summary>
    public byte[] Build(uint sequence)
    {
        if (_openNests.Count > 0)
        {
            throw new InvalidOperationException("a nested netlink attribute was not closed");
        }
        var message = _bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), sequence);
        return message;
    }

    private void Pad()
    {
        while (_bytes.Count % 4 != 0)
        {
            _bytes.Add(0);
        }
    }

    private void AppendUInt16(ushort value)
    {
        _bytes.Add((byte)value);
        _bytes.Add((byte)(value >> 8));
    }

    private void AppendUInt32(uint value)
    {
        for (var shift = 0; shift < 32; shift += 8)
        {
            _bytes.Add((byte)(value >> shift));
        }
    }
}
