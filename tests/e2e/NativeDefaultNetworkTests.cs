using System.Net;
using System.Text.RegularExpressions;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// The built-in network's bridge step done by the daemon itself: a pod without hostPorts starts
/// no CNI plugin process (the plugin directory holds only plugins that record their run and
/// refuse ADD), and pods attached by the plugins before (an earlier daemon, or the switch off) share
/// the allocator with native ones and are detached cleanly.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed partial class NativeDefaultNetworkTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string IpamDirectory = "/var/lib/cni/networks/crioci";

    private readonly string _plugins = Directory.CreateTempSubdirectory("crioci-e2e-refusing-cni-").FullName;
    private DaemonProcess? _daemon;

    public Task InitializeAsync()
    {
        foreach (var type in new[] { "bridge", "host-local", "portmap" })
        {
            var path = Path.Combine(_plugins, type);
            File.WriteAllText(path, $$"""
                #!/bin/sh
                cat > /dev/null
                echo "$CNI_COMMAND" >> "{{_plugins}}/ran-{{type}}"
                [ "$CNI_COMMAND" = DEL ] && exit 0
                echo '{"cniVersion":"1.0.0","code":100,"msg":"test plugin {{type}} refuses"}'
                exit 1

                """);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_daemon is { } daemon)
        {
            try
            {
                foreach (var pod in (await daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items)
                {
                    await daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Id });
                }
            }
            catch (Grpc.Core.RpcException exception)
            {
                output.WriteLine($"clean-up through the daemon failed: {exception.Status}");
            }
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
        Directory.Delete(_plugins, recursive: true);
    }

    private string LogDirectory => Path.Combine(_daemon!.BaseDirectory, "pod-logs");

    private RuntimeService.RuntimeServiceClient Runtime => _daemon!.Client.Runtime;

    [Fact]
    public async Task PodWithoutHostPorts_NoPluginProcess_HostPortPodStillChainsPortmap()
    {
        _daemon = await DaemonProcess.StartAsync(extraArgs: ["--cni-bin-dir", _plugins]);

        var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("native", LogDirectory) })).PodSandboxId;
        var ip = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod })).Status.Network.Ip;
        output.WriteLine($"native pod {pod[..12]}: {ip}");
        Assert.True(IPNetwork.Parse("10.87.0.0/16").Contains(IPAddress.Parse(ip)), ip);
        var (hostVeth, inside) = await PodInterfaceAsync(pod);
        Assert.Contains($"inet {ip}/16", inside);
        Assert.Equal("crioci0", Path.GetFileName(Directory.ResolveLinkTarget($"/sys/class/net/{hostVeth}/master", returnFinalTarget: false)!.FullName));
        Assert.Equal("1", File.ReadAllText($"/sys/class/net/{hostVeth}/brport/hairpin_mode").Trim());
        Assert.Equal($"{pod}\r\neth0", File.ReadAllText(Path.Combine(IpamDirectory, ip)));
        Assert.Contains("\"nativeBridge\": true", File.ReadAllText(CacheFile(pod)));

        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });

        Assert.False(File.Exists(Path.Combine(IpamDirectory, ip)));
        Assert.False(Directory.Exists($"/sys/class/net/{hostVeth}"));
        Assert.Empty(Directory.GetFiles(_plugins, "ran-*"));

        // The directory is really used: a hostPort pod runs portmap, which refuses, and the native
        // bridge step before it is undone.
        var ipamBefore = IpamAddressFiles();
        var config = CriRequests.Pod("hostport", LogDirectory);
        config.PortMappings.Add(new PortMapping { ContainerPort = 80, HostPort = 18080 });
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }));
        Assert.Contains("test plugin portmap refuses", error.Status.Detail);
        Assert.Equal(["ADD", "DEL"], File.ReadAllLines(Path.Combine(_plugins, "ran-portmap")));
        Assert.False(File.Exists(Path.Combine(_plugins, "ran-bridge")));
        Assert.Equal(ipamBefore, IpamAddressFiles());
    }

    [Fact]
    public async Task PodAttachedByThePlugins_SharesTheAllocatorAndIsRemovedCleanlyByTheNativeDaemon()
    {
        _daemon = await DaemonProcess.StartAsync(extraArgs: ["--cni-native-bridge", "false"]);
        var old = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("by-plugins", LogDirectory) })).PodSandboxId;
        Assert.DoesNotContain("nativeBridge", File.ReadAllText(CacheFile(old)));
        var (oldVeth, _) = await PodInterfaceAsync(old);

        // Upgrade: the daemon dies and comes back with the native bridge step.
        await _daemon.KillAsync();
        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);
        var fresh = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = CriRequests.Pod("native", LogDirectory) })).PodSandboxId;
        Assert.Contains("\"nativeBridge\": true", File.ReadAllText(CacheFile(fresh)));
        var oldIp = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = old })).Status.Network.Ip;
        var freshIp = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = fresh })).Status.Network.Ip;
        Assert.NotEqual(oldIp, freshIp);
        var (freshVeth, _) = await PodInterfaceAsync(fresh);

        foreach (var pod in new[] { old, fresh })
        {
            await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
            await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
        }

        Assert.False(File.Exists(Path.Combine(IpamDirectory, oldIp)));
        Assert.False(File.Exists(Path.Combine(IpamDirectory, freshIp)));
        Assert.False(Directory.Exists($"/sys/class/net/{oldVeth}"));
        Assert.False(Directory.Exists($"/sys/class/net/{freshVeth}"));
        Assert.Empty(HostInspection.MountsUnder(_daemon.StateDirectory));
    }

    private string CacheFile(string pod) => Path.Combine(_daemon!.RootDirectory, "pods", pod, "cni-cache.json");

    /// <summary>The host end's name (from eth0's peer index) and eth0's addresses as seen inside the pod.</summary>
    private async Task<(string HostVeth, string Inside)> PodInterfaceAsync(string pod)
    {
        var netns = $"--net={Path.Combine(_daemon!.StateDirectory, "pods", pod, "ns", "net")}";
        var link = await CommandRunner.RunAsync("nsenter", [netns, "ip", "-o", "link", "show", "eth0"]);
        var peerIndex = int.Parse(PeerIndex().Match(link.StandardOutput).Groups[1].Value);
        var hostVeth = Directory.GetDirectories("/sys/class/net")
            .Single(d => int.Parse(File.ReadAllText(Path.Combine(d, "ifindex")).Trim()) == peerIndex);
        var addresses = await CommandRunner.RunAsync("nsenter", [netns, "ip", "-o", "addr", "show", "eth0"]);
        return (Path.GetFileName(hostVeth), addresses.StandardOutput);
    }

    private static List<string> IpamAddressFiles() =>
        Directory.Exists(IpamDirectory)
            ? [.. Directory.GetFiles(IpamDirectory).Select(f => Path.GetFileName(f)).Where(f => f != "lock" && !f.StartsWith("last_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)]
            : [];

    [GeneratedRegex(@"eth0@if(\d+):")]
    private static partial Regex PeerIndex();
}
