using System.Net;
using System.Net.Sockets;
using CriOci.Core;

namespace CriOci.PodSandbox.Network;

/// <summary>
/// The rules in the nat table's POSTROUTING chain, through iptables / ip6tables: checked with -C
/// and appended only when missing, so a restarted daemon (or a second daemon on the node) finds
/// its rule and adds no copy. Rules stay when the daemon stops: pods outlive it. A rule of a
/// subnet kubelet has since replaced stays too, for the pods still on it.
/// </summary>
/// <remarks>
/// A subnet checked less than <see cref="DefaultRecheckInterval"/> ago is not checked again: an
/// ADD costs no iptables run. Later it is, because a firewall reload (firewalld, a flush of the
/// nat table) removes the rule behind the daemon's back; the next pod puts it back.
/// </remarks>
internal sealed class IptablesNodeMasquerade(
    IReadOnlyList<string>? searchDirectories = null, TimeSpan? recheckInterval = null, TimeProvider? time = null) : INodeMasquerade
{
    public static readonly TimeSpan DefaultRecheckInterval = TimeSpan.FromSeconds(30);

    /// <summary>-w waits for the xtables lock; a run stuck this long is killed rather than holding every ADD.</summary>
    private static readonly TimeSpan IptablesTimeout = TimeSpan.FromMinutes(1);

    /// <summary>Where iptables lives on Debian and most distributions, looked in first: a daemon under a supervisor may have no sbin in PATH.</summary>
    private readonly IReadOnlyList<string> _searchDirectories = searchDirectories ?? ["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/bin"];
    private readonly TimeSpan _recheckInterval = recheckInterval ?? DefaultRecheckInterval;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, long> _checkedAt = new(StringComparer.Ordinal);

    public async Task EnsureAsync(IReadOnlyList<string> subnets, CancellationToken cancellationToken)
    {
        // Concurrent ADDs of the first pods wait here for the one install; later ones only look.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var subnet in subnets)
            {
                var now = _time.GetTimestamp();
                if (_checkedAt.TryGetValue(subnet, out var checkedAt) && _time.GetElapsedTime(checkedAt, now) < _recheckInterval)
                {
                    continue;
                }
                var command = IsIPv6(subnet) ? "ip6tables" : "iptables";
                var rule = Rule(subnet);
                var check = await RunAsync(command, ["-w", "-t", "nat", "-C", .. rule], cancellationToken).ConfigureAwait(false);
                if (check.ExitCode != 0)
                {
                    var append = await RunAsync(command, ["-w", "-t", "nat", "-A", .. rule], cancellationToken).ConfigureAwait(false);
                    if (append.ExitCode != 0)
                    {
                        throw new UnavailableException(
                            $"default pod network: cannot install the masquerade rule for {subnet} ({command} exit status {append.ExitCode}): {append.Errors.Trim()}");
                    }
                }
                _checkedAt[subnet] = now;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// POSTROUTING, from <paramref name="subnet"/> to anywhere outside it that is not multicast
    /// (pods keep talking multicast on the bridge unrewritten, as with the plugin's rules).
    /// </summary>
    internal static IReadOnlyList<string> Rule(string subnet) =>
    [
        "POSTROUTING", "-s", subnet, "!", "-d", subnet,
        "-m", "addrtype", "!", "--dst-type", "MULTICAST",
        "-m", "comment", "--comment", Comment(subnet),
        "-j", "MASQUERADE",
    ];

    internal static string Comment(string subnet) => $"crioci default network: masquerade {subnet}";

    private static bool IsIPv6(string subnet) =>
        IPNetwork.Parse(subnet).BaseAddress.AddressFamily == AddressFamily.InterNetworkV6;

    private async Task<(int ExitCode, string Errors)> RunAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var executable = _searchDirectories.Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists)
            ?? throw new UnavailableException($"default pod network: {command} is needed for its masquerade rule and is not installed");
        try
        {
            var result = await HostTool.RunAsync(executable, arguments, stdin: null, IptablesTimeout, cancellationToken).ConfigureAwait(false);
            return (result.ExitCode, result.Stderr);
        }
        catch (HostToolException exception)
        {
            throw new UnavailableException($"default pod network: {exception.Message}");
        }
    }
}
