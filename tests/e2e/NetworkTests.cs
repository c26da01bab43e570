using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// Pod networking for real: the daemon with an empty CNI config directory uses its built-in
/// default network (Debian's bridge, host-local and portmap plugins, bridge crioci0, subnet
/// 10.87.0.0/16). Traffic only goes to pod IPs on that bridge and to 127.0.0.1.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class NetworkTests(RegistryFixture registry, ITestOutputHelper output) : IAsyncLifetime
{
    private const string IpamDirectory = "/var/lib/cni/networks/crioci";

    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        // A failed test must not leave veths, IPAM allocations or iptables rules on the shared
        // bridge: remove what is left through the daemon (CNI DEL) before stopping it.
        try
        {
            foreach (var pod in (await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items)
            {
                await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id });
            }
        }
        catch (Grpc.Core.RpcException exception)
        {
            output.WriteLine($"clean-up through the daemon failed: {exception.Status}");
        }
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;
    private string LogDirectory => Path.Combine(_daemon.BaseDirectory, "pod-logs");

    [Fact]
    public async Task TwoPods_DefaultBridge_ReachEachOtherAndHostPortAndLeaveNothing()
    {
        var image = registry.BusyboxLatest.Reference;
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var hostPort = FreeHostPort();

        var serverConfig = CriRequests.Pod("server", LogDirectory);
        serverConfig.PortMappings.Add(new PortMapping { ContainerPort = 8080, HostPort = hostPort, Protocol = Protocol.Tcp });
        var (server, serverContainer) = await RunPodWithContainerAsync(serverConfig, image,
            "sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www");
        var (client, clientContainer) = await RunPodWithContainerAsync(CriRequests.Pod("client", LogDirectory), image, "sleep", "3600");

        var serverIp = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = server })).Status.Network.Ip;
        var clientIp = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = client })).Status.Network.Ip;
        output.WriteLine($"server {serverIp}, client {clientIp}");
        Assert.True(IPNetwork.Parse("10.87.0.0/16").Contains(IPAddress.Parse(serverIp)), serverIp);
        Assert.True(IPNetwork.Parse("10.87.0.0/16").Contains(IPAddress.Parse(clientIp)), clientIp);
        Assert.NotEqual(serverIp, clientIp);

        var hosts = await ExecAsync(serverContainer, "cat", "/etc/hosts");
        Assert.Contains($"{serverIp}\tserver\n", hosts.Stdout);
        var eth0 = await ExecAsync(clientContainer, "ip", "-o", "-4", "addr", "show", "eth0");
        Assert.Contains($"inet {clientIp}/16", eth0.Stdout);

        // Pod to pod over the bridge, by pod IP. (busybox-static's wget crashes with -q or -T here, so
        // the progress goes to stderr and the exec timeout bounds it.)
        var fetched = await RetryAsync(() => ExecAsync(clientContainer, "wget", "-O", "-", $"http://{serverIp}:8080/index.html"));
        Assert.Equal("hello-from-server\n", fetched.Stdout);
        var ping = await ExecAsync(clientContainer, "ping", "-c", "1", "-W", "3", serverIp);
        Assert.True(ping.ExitCode == 0, ping.Stdout + ping.Stderr);

        // hostPort from the host: portmap DNATs locally generated traffic to 127.0.0.1:hostPort
        // (it sets route_localnet on the bridge and masquerades 127.0.0.0/8 for that).
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
        {
            Assert.Equal("hello-from-server\n", await http.GetStringAsync($"http://127.0.0.1:{hostPort}/index.html"));
        }

        // The host ends of the pods' veths, found from inside: eth0's iflink is the peer's ifindex.
        var hostVeths = new List<int>();
        foreach (var container in new[] { serverContainer, clientContainer })
        {
            hostVeths.Add(int.Parse((await ExecAsync(container, "cat", "/sys/class/net/eth0/iflink")).Stdout.Trim()));
        }
        Assert.All(hostVeths, index => Assert.Contains(index, HostLinkIndexes()));
        Assert.NotEmpty(IpamFilesOf(server));

        foreach (var pod in new[] { server, client })
        {
            await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
            await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
        }

        Assert.All(hostVeths, index => Assert.DoesNotContain(index, HostLinkIndexes()));
        Assert.Empty(IpamFilesOf(server));
        Assert.Empty(IpamFilesOf(client));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        Assert.False(Directory.Exists(Path.Combine(_daemon.StateDirectory, "pods", server)), "namespace pins remain");
        var nat = await CommandRunner.RunAsync("iptables", ["-t", "nat", "-S"]);
        Assert.DoesNotContain($"--dport {hostPort} ", nat.StandardOutput);
        Assert.DoesNotContain(server[..12], nat.StandardOutput);
    }

    [Fact]
    public async Task RemovePodSandbox_AfterDaemonKillAndConfigChange_DeletesWithCachedConfig()
    {
        var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("survivor", LogDirectory) })).PodSandboxId;
        Assert.Single(IpamFilesOf(pod));

        await _daemon.KillAsync();
        await _daemon.DisposeAsync();
        // The admin replaces the network meanwhile: DEL must still use what ADD used.
        await File.WriteAllTextAsync(Path.Combine(_daemon.CniConfigDirectory, "10-other.conflist"),
            """{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"no-such-plugin"}]}""");
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);
        Assert.False(Assert.Single((await Runtime.StatusAsync(new StatusRequest())).Status.Conditions, c => c.Type == "NetworkReady").Status);

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });

        Assert.Empty(IpamFilesOf(pod));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        var nat = await CommandRunner.RunAsync("iptables", ["-t", "nat", "-S"]);
        Assert.DoesNotContain(pod, nat.StandardOutput);
    }

    [Fact]
    public async Task UpdateRuntimeConfig_PodCidr_DefaultNetworkUsesIt()
    {
        await Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "10.86.77.0/24" } },
        });

        var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("cidr", LogDirectory) })).PodSandboxId;
        var ip = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod })).Status.Network.Ip;
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });

        // The pod CIDR got its own bridge (the default one keeps 10.87.0.1/16); take it down again.
        // (The CIDR is outside 10.87.0.0/16 so its route never captures default-network pods.)
        var bridges = await CommandRunner.RunAsync("ip", ["-o", "-4", "addr", "show", "to", "10.86.77.0/24"]);
        foreach (var bridge in bridges.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]))
        {
            Assert.StartsWith("crioci", bridge);
            await CommandRunner.RunUncheckedAsync("ip", ["link", "del", bridge]);
        }

        Assert.True(IPNetwork.Parse("10.86.77.0/24").Contains(IPAddress.Parse(ip)), ip);
        Assert.Empty(IpamFilesOf(pod));
    }

    [Fact]
    public async Task RunPodSandbox_HostPortTakenOnHost_FailedPreconditionAndNothingLeft()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var config = CriRequests.Pod("taken", LogDirectory);
        config.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = port });

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }).ResponseAsync);

        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal($"hostPort {port}/tcp is already in use on the host", error.Status.Detail);
        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    /// <summary>
    /// Pods come and go all day: none may leave an IPAM allocation, iptables rule, netns pin or
    /// veth. Other daemons may share the bridge at the same time, so leftovers are attributed by
    /// pod ID (IPAM files, iptables comments) and by the daemon's own directories (pins).
    /// </summary>
    [Fact]
    public async Task PodCycles_CreateStopRemove_LeaveNoNetworkState()
    {
        var ids = new List<string>();
        var hostVeths = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            var config = CriRequests.Pod($"cycle-{i}", LogDirectory);
            config.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = FreeHostPort() });
            var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
            ids.Add(pod);
            Assert.Single(IpamFilesOf(pod));
            // "2: eth0@if14: ..." inside the pod's pinned netns: 14 is the host end's ifindex.
            var link = await CommandRunner.RunAsync("nsenter", [$"--net={Path.Combine(_daemon.StateDirectory, "pods", pod, "ns", "net")}", "ip", "-o", "link", "show", "eth0"]);
            hostVeths.Add(int.Parse(Regex.Match(link.StandardOutput, @"eth0@if(\d+):").Groups[1].Value));
            await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
            await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
        }

        var nat = (await CommandRunner.RunAsync("iptables", ["-t", "nat", "-S"])).StandardOutput;
        Assert.All(ids, id => Assert.Empty(IpamFilesOf(id)));
        Assert.All(ids, id => Assert.DoesNotContain(id, nat));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_daemon.StateDirectory, "pods")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_daemon.RootDirectory, "pods")));
        Assert.All(hostVeths, index => Assert.DoesNotContain(index, HostLinkIndexes()));
    }

    [Fact]
    public async Task Status_EmptyConfigDirectory_NetworkReadyWithDefaultNetwork()
    {
        var status = await Runtime.StatusAsync(new StatusRequest());

        var network = Assert.Single(status.Status.Conditions, c => c.Type == "NetworkReady");
        Assert.True(network.Status, network.Message);
    }

    [Fact]
    public async Task Status_BadConfigFile_NetworkNotReadyHostNetworkPodsStillRun()
    {
        var badFile = Path.Combine(_daemon.CniConfigDirectory, "10-broken.conflist");
        await File.WriteAllTextAsync(badFile, """{"cniVersion":"1.0.0","name":"broken","plugins":[""");

        var network = Assert.Single((await Runtime.StatusAsync(new StatusRequest())).Status.Conditions, c => c.Type == "NetworkReady");
        Assert.False(network.Status);
        Assert.Equal("NetworkPluginNotReady", network.Reason);
        Assert.Contains("10-broken.conflist", network.Message);

        var podNetworkError = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
            () => Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("needs-net", LogDirectory) }).ResponseAsync);
        Assert.Contains("10-broken.conflist", podNetworkError.Status.Detail);
        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);

        var hostPod = CriRequests.Pod("on-host", LogDirectory);
        hostPod.Linux = new LinuxPodSandboxConfig
        {
            SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node } },
        };
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = hostPod });
        Assert.Equal("", (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod.PodSandboxId })).Status.Network.Ip);
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });

        File.Delete(badFile);
        Assert.True(Assert.Single((await Runtime.StatusAsync(new StatusRequest())).Status.Conditions, c => c.Type == "NetworkReady").Status);
    }

    [Fact]
    public async Task RunPodSandbox_Latency_BridgeVersusHostNetwork()
    {
        var bridge = new List<double>();
        var host = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            foreach (var hostNetwork in new[] { false, true })
            {
                var config = CriRequests.Pod($"timing-{i}-{(hostNetwork ? "host" : "cni")}", LogDirectory);
                if (hostNetwork)
                {
                    config.Linux = new LinuxPodSandboxConfig
                    {
                        SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node } },
                    };
                }
                var clock = Stopwatch.StartNew();
                var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config });
                (hostNetwork ? host : bridge).Add(clock.Elapsed.TotalMilliseconds);
                await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
            }
        }
        output.WriteLine($"RunPodSandbox median: bridge {Median(bridge):0} ms, hostNetwork {Median(host):0} ms " +
            $"(bridge runs: {string.Join(", ", bridge.Select(ms => ms.ToString("0")))})");
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    private async Task<(string Pod, string Container)> RunPodWithContainerAsync(PodSandboxConfig config, string image, params string[] command)
    {
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config });
        var container = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container(config.Metadata.Name + "-ctr", image, command),
            SandboxConfig = config,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container.ContainerId });
        return (pod.PodSandboxId, container.ContainerId);
    }

    private sealed record Exec(int ExitCode, string Stdout, string Stderr);

    private async Task<Exec> ExecAsync(string container, params string[] command)
    {
        var response = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = container, Cmd = { command }, Timeout = 10 });
        return new Exec(response.ExitCode, response.Stdout.ToStringUtf8(), response.Stderr.ToStringUtf8());
    }

    /// <summary>The server needs a moment to listen after StartContainer.</summary>
    private static async Task<Exec> RetryAsync(Func<Task<Exec>> attempt)
    {
        for (var i = 0; ; i++)
        {
            var result = await attempt();
            if (result.ExitCode == 0 || i == 20)
            {
                Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}{result.Stderr}");
                return result;
            }
            await Task.Delay(200);
        }
    }

    private static int FreeHostPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static HashSet<int> HostLinkIndexes() =>
        Directory.GetDirectories("/sys/class/net").Select(d => int.Parse(File.ReadAllText(Path.Combine(d, "ifindex")).Trim())).ToHashSet();

    /// <summary>host-local's allocation files: named by IP, holding the container ID (our pod ID) on the first line.</summary>
    private static List<string> IpamFilesOf(string podId) =>
        Directory.Exists(IpamDirectory)
            ? Directory.GetFiles(IpamDirectory).Where(f => File.ReadAllText(f).StartsWith(podId, StringComparison.Ordinal)).ToList()
            : [];

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
