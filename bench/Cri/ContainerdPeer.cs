using System.Globalization;
using CriOci.Play;
using CriOci.TestSupport;

namespace CriOci.Bench.Cri;

/// <summary>
/// Debian's containerd 1.6 with its CRI plugin, on a temporary socket and root, running pods
/// through the runc v2 shim with the OCI runtime <see cref="OciRuntimePath"/> (runc or crun).
/// This machine needs restrict_oom_score_adj (no CAP_SYS_RESOURCE) and no AppArmor; the
/// sandbox ("pause") image comes from the benchmark's own registry over plain HTTP, and pods
/// get a bridge network of their own (bridge name and subnet differ from CriOci's 10.87.0.0/16).
/// </summary>
public sealed class ContainerdPeer : CriPeer
{
    private readonly ContainerdServer _server;
    private readonly string _bridge;

    private ContainerdPeer(string name, ContainerdServer server, string bridge)
        : base(name, CriChannel.ForUnixSocket(server.Socket))
    {
        _server = server;
        _bridge = bridge;
    }

    public override int DaemonPid => _server.Pid;

    public override string LogPath => Path.Combine(_server.Directory, "containerd.log");

    /// <summary>containerd-shim-runc-v2 processes started for this containerd (its socket in -address).</summary>
    public override IReadOnlyList<int> HelperPids() => ProcessTable.Find(argv =>
        Path.GetFileName(argv[0]) == "containerd-shim-runc-v2" && ProcessTable.FlagValue(argv, "-address") == _server.Socket);

    /// <param name="subnetIndex">Picks the pod subnet 10.(88+index).0.0/16 and bridge crbench(index).</param>
    public static async Task<ContainerdPeer> StartAsync(
        string name, string ociRuntimePath, string work, BenchImages images, int subnetIndex, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(work, name);
        var cniDirectory = Path.Combine(directory, "cni");
        Directory.CreateDirectory(cniDirectory);
        var index = subnetIndex.ToString(CultureInfo.InvariantCulture);
        var bridge = "crbench" + index;
        var subnet = $"10.{(88 + subnetIndex).ToString(CultureInfo.InvariantCulture)}.0.0/16";
        await File.WriteAllTextAsync(Path.Combine(cniDirectory, "10-bench.conflist"), $$"""
            {
              "cniVersion": "1.0.0",
              "name": "bench-{{name}}",
              "plugins": [
                {
                  "type": "bridge",
                  "bridge": "{{bridge}}",
                  "isGateway": true,
                  "ipMasq": true,
                  "ipam": {
                    "type": "host-local",
                    "ranges": [[ {"subnet": "{{subnet}}"} ]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": "{{directory}}/ipam"
                  }
                },
                {"type": "portmap", "capabilities": {"portMappings": true} }
              ]
            }
            """, cancellationToken);
        var cri = $$"""
            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "{{images.Pause}}"
              restrict_oom_score_adj = true
              disable_apparmor = true
              [plugins."io.containerd.grpc.v1.cri".containerd]
                snapshotter = "overlayfs"
                default_runtime_name = "bench"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.bench]
                  runtime_type = "io.containerd.runc.v2"
                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.bench.options]
                    BinaryName = "{{ociRuntimePath}}"
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "/usr/lib/cni"
                conf_dir = "{{cniDirectory}}"
                max_conf_num = 1
              [plugins."io.containerd.grpc.v1.cri".registry.mirrors."{{images.Registry}}"]
                endpoint = ["http://{{images.Registry}}"]
            """;
        var server = await ContainerdServer.StartAsync(directory, cri);
        var peer = new ContainerdPeer(name, server, bridge);
        try
        {
            await PeerReadiness.WaitAsync(peer, () => false, cancellationToken);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops containerd, then deletes the bridge, which the bridge plugin leaves behind by design.</summary>
    public override async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _server.DisposeAsync();
        await CommandRunner.RunUncheckedAsync("ip", ["link", "delete", _bridge], TimeSpan.FromSeconds(30));
    }
}
