using System.Globalization;

namespace CriOci.PodSandbox.Network;

/// <summary>Cumulative counters of one network interface.</summary>
public sealed record InterfaceCounters(string Name, ulong RxBytes, ulong RxErrors, ulong TxBytes, ulong TxErrors)
{
    /// <summary>
    /// Parses /proc/net/dev: two header lines, then "name: rx_bytes rx_packets rx_errs ... tx_bytes
    /// tx_packets tx_errs ..." with eight receive and eight transmit columns. Loopback is left out,
    /// as kubelet's (cAdvisor's) pod network stats leave it out.
    /// </summary>
    public static IReadOnlyList<InterfaceCounters> ParseProcNetDev(string text)
    {
        var result = new List<InterfaceCounters>();
        foreach (var line in text.Split('\n').Skip(2))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            var columns = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (name == "lo" || columns.Length < 16)
            {
                continue;
            }
            result.Add(new InterfaceCounters(name, Column(columns, 0), Column(columns, 2), Column(columns, 8), Column(columns, 10)));
        }
        return result;
    }

    private static ulong Column(string[] columns, int index) =>
        ulong.TryParse(columns[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
}
