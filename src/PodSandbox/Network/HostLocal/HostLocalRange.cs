using System.Net;
using System.Net.Sockets;

namespace CriOci.PodSandbox.Network.HostLocal;

/// <summary>
/// One range set of host-local's config as the built-in network writes it: a subnet with the
/// plugin's defaults (allocator/range.go Canonicalize): the gateway and the first address are
/// the subnet's ".1", the last is the subnet's last address, minus the broadcast for IPv4.
/// </summary>
internal sealed record HostLocalRange(IPNetwork Subnet)
{
    public IPAddress Gateway => Add(Subnet.BaseAddress, 1);

    public IPAddress RangeStart => Add(Subnet.BaseAddress, 1);

    public IPAddress RangeEnd
    {
        get
        {
            var bits = Bits(Subnet.BaseAddress);
            var host = bits - Subnet.PrefixLength;
            var last = ToNumber(Subnet.BaseAddress) | (host == 128 ? UInt128.MaxValue : (UInt128.One << host) - 1);
            return FromNumber(IsV4 ? last - 1 : last, Subnet.BaseAddress.AddressFamily);
        }
    }

    public bool IsV4 => Subnet.BaseAddress.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>Inside [RangeStart, RangeEnd], the addresses host-local hands out (the gateway among them, which it skips).</summary>
    public bool Contains(IPAddress address) =>
        address.AddressFamily == Subnet.BaseAddress.AddressFamily
        && ToNumber(address) >= ToNumber(RangeStart) && ToNumber(address) <= ToNumber(RangeEnd);

    /// <summary>
    /// The order host-local tries addresses in (allocator.go GetIter/Next): round robin from the one
    /// after <paramref name="lastReserved"/> (from the start when it is not in the range), wrapping
    /// at the end, the last reserved one last, the gateway never.
    /// </summary>
    public IEnumerable<IPAddress> Candidates(IPAddress? lastReserved)
    {
        var start = ToNumber(RangeStart);
        var count = ToNumber(RangeEnd) - start + 1;
        var first = start;
        if (lastReserved is not null && Contains(lastReserved))
        {
            var last = ToNumber(lastReserved);
            first = last == ToNumber(RangeEnd) ? start : last + 1;
        }
        var gateway = ToNumber(Gateway);
        for (UInt128 i = 0; i < count; i++)
        {
            var candidate = start + ((first - start + i) % count);
            if (candidate != gateway)
            {
                yield return FromNumber(candidate, Subnet.BaseAddress.AddressFamily);
            }
        }
    }

    private static int Bits(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    private static IPAddress Add(IPAddress address, int offset) => FromNumber(ToNumber(address) + (UInt128)offset, address.AddressFamily);

    private static UInt128 ToNumber(IPAddress address)
    {
        UInt128 value = 0;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }
        return value;
    }

    private static IPAddress FromNumber(UInt128 value, AddressFamily family)
    {
        var bytes = new byte[family == AddressFamily.InterNetwork ? 4 : 16];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(bytes);
    }
}
