namespace CriOci.E2E.Fixtures;

/// <summary>
/// What one daemon has put on the node, each kind listed so a leak can be named: mounts under its
/// root and state directories, network namespaces it pins there, cgroups under its pods' cgroup
/// parent, veths on its test network's bridge, that network's IP allocations, its monitors (and
/// exec helpers), the processes in its containers' cgroups, and its zombie children. Everything
/// is scoped to one daemon because other tests run daemons on the same machine at the same time.
/// </summary>
public sealed record NodeFootprint(
    IReadOnlyList<string> Mounts,
    IReadOnlyList<string> NetworkNamespacePins,
    IReadOnlyList<string> Cgroups,
    IReadOnlyList<string> Veths,
    IReadOnlyList<string> IpamAllocations,
    IReadOnlyList<string> Monitors,
    IReadOnlyList<string> ContainerProcesses,
    IReadOnlyList<string> Zombies)
{
    public static NodeFootprint Take(DaemonProcess daemon, TestNetwork network, string cgroupParent)
    {
        var cgroups = HostInspection.CgroupsUnder(cgroupParent);
        return new NodeFootprint(
            [.. HostInspection.MountsUnder(daemon.RootDirectory), .. HostInspection.MountsUnder(daemon.StateDirectory)],
            HostInspection.MountsUnder(daemon.StateDirectory, fileSystemType: "nsfs").Where(m => m.EndsWith("/net", StringComparison.Ordinal)).ToList(),
            cgroups,
            network.Veths(),
            network.IpamAllocations(),
            HostInspection.ProcessesMentioning(daemon.StateDirectory, exceptPid: daemon.Pid),
            HostInspection.ProcessesInCgroupsUnder(cgroupParent),
            HostInspection.ZombieChildrenOf(daemon.Pid));
    }

    private IEnumerable<(string Kind, IReadOnlyList<string> Items)> Kinds() =>
    [
        ("mounts", Mounts), ("netns pins", NetworkNamespacePins), ("cgroups", Cgroups), ("veths", Veths),
        ("IPAM allocations", IpamAllocations), ("monitors", Monitors), ("container processes", ContainerProcesses), ("zombies", Zombies),
    ];

    /// <summary>"mounts 0, netns pins 0, ..." for the test output.</summary>
    public string Counts => string.Join(", ", Kinds().Select(k => $"{k.Kind} {k.Items.Count}"));

    /// <summary>Every kind whose count differs from <paramref name="baseline"/>, with what is there now; empty when none does.</summary>
    public string DifferencesFrom(NodeFootprint baseline) => string.Join("\n", Kinds().Zip(baseline.Kinds())
        .Where(pair => pair.First.Items.Count != pair.Second.Items.Count)
        .Select(pair => $"{pair.First.Kind}: {pair.Second.Items.Count} before, {pair.First.Items.Count} now: {string.Join("; ", pair.First.Items.Take(10))}"));

    /// <summary>
    /// Polls until nothing differs from <paramref name="baseline"/> or the deadline passes, and
    /// returns the last footprint: a monitor takes a moment to exit after writing its container's
    /// exit status, and a restarted daemon undoes a killed one's half-done work in the background.
    /// </summary>
    public static async Task<NodeFootprint> SettleAsync(Func<NodeFootprint> take, NodeFootprint baseline, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var now = take();
            if (now.DifferencesFrom(baseline).Length == 0 || DateTime.UtcNow > deadline)
            {
                return now;
            }
            await Task.Delay(100);
        }
    }
}
