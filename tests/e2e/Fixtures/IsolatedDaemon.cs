using CriOci.Cri.V1;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// A daemon whose every trace on the node can be told apart from other daemons' (tests run in
/// parallel on this machine): its own root and state, its own CNI network
/// (<see cref="TestNetwork"/>) and its own cgroup parent for its pods. It survives kills and
/// restarts on the same directories, and its disposal removes whatever a failed test left:
/// pods through the daemon, then processes, cgroups, mounts, the bridge and the directories.
/// </summary>
public sealed class IsolatedDaemon : IAsyncDisposable
{
    /// <summary>False between a kill and a successful restart: that daemon is disposed already.</summary>
    private bool _daemonRunning = true;

    private IsolatedDaemon(string baseDirectory, TestNetwork network, string cgroupParent, DaemonProcess daemon)
    {
        BaseDirectory = baseDirectory;
        Network = network;
        CgroupParent = cgroupParent;
        Daemon = daemon;
    }

    public string BaseDirectory { get; }
    public TestNetwork Network { get; }

    /// <summary>A cgroupfs path under which the pods' containers get their cgroups.</summary>
    public string CgroupParent { get; }

    /// <summary>The daemon running now (a new one after each restart).</summary>
    public DaemonProcess Daemon { get; private set; }

    public string SocketPath => Daemon.SocketPath;
    public string LogDirectory => Path.Combine(BaseDirectory, "pod-logs");

    /// <param name="ipRangesCapability">Its network's bridge takes kubelet's pod CIDR (CNI ipRanges).</param>
    public static async Task<IsolatedDaemon> StartAsync(bool ipRangesCapability = false)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var baseDirectory = Path.Combine(Path.GetTempPath(), "crioci-e2e-" + id);
        var network = TestNetwork.Create(Path.Combine(baseDirectory, "cni", "net.d"), Path.Combine(baseDirectory, "ipam"), ipRangesCapability);
        var daemon = await DaemonProcess.StartAsync(baseDirectory);
        return new IsolatedDaemon(baseDirectory, network, "/crioci-e2e-" + id, daemon);
    }

    /// <summary>A pod in this daemon's cgroup parent (and, having no hostNetwork, on its test network).</summary>
    public PodSandboxConfig Pod(string name)
    {
        var config = CriRequests.Pod(name, LogDirectory);
        config.Linux = new LinuxPodSandboxConfig { CgroupParent = CgroupParent };
        return config;
    }

    public NodeFootprint Footprint() => NodeFootprint.Take(Daemon, Network, CgroupParent);

    public DaemonFigures Figures() => DaemonFigures.Read(Daemon.Pid);

    /// <summary>SIGKILL; the containers and their monitors keep running.</summary>
    public async Task KillAsync()
    {
        _daemonRunning = false;
        await Daemon.KillAsync();
        await Daemon.DisposeAsync();
    }

    /// <summary>A new daemon on the same socket, root, state and CNI config.</summary>
    public async Task RestartAsync()
    {
        Daemon = await DaemonProcess.StartAsync(BaseDirectory);
        _daemonRunning = true;
    }

    public async ValueTask DisposeAsync()
    {
        // Pods through the daemon first (CNI DEL releases veths and addresses properly), then
        // by force whatever is left after a test that failed half-way.
        if (_daemonRunning)
        {
            await Daemon.DisposeAsync();
        }
        foreach (var process in HostInspection.ProcessesInCgroupsUnder(CgroupParent)
            .Concat(HostInspection.ProcessesMentioning(Path.Combine(BaseDirectory, "state"))))
        {
            KillQuietly(int.Parse(process[..process.IndexOf(':')]));
        }
        foreach (var hierarchy in HostInspection.CgroupHierarchies())
        {
            var parent = Path.Combine(hierarchy, CgroupParent.TrimStart('/'));
            if (Directory.Exists(parent))
            {
                // Deepest first: a cgroup directory is removed with rmdir, and only when empty.
                foreach (var cgroup in Directory.GetDirectories(parent, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(parent))
                {
                    RemoveCgroupQuietly(cgroup);
                }
            }
        }
        await Network.RemoveBridgeAsync();
        await PodLifecycleTests.CleanUpAsync(BaseDirectory);
    }

    private static void KillQuietly(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static void RemoveCgroupQuietly(string cgroup)
    {
        try
        {
            Directory.Delete(cgroup);
        }
        catch (IOException)
        {
            // Still has processes (a kill has not landed yet) or is gone already.
        }
    }
}
