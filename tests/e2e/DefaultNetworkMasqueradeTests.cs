using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

/// <summary>
/// The built-in default network masquerades its pods with one nat rule per subnet, installed by
/// the daemon, instead of a chain per pod from the bridge plugin. "Outside the node" is a network
/// namespace behind a veth with a /30 of 198.18.0.0/15 (RFC 2544 benchmarking space) and no
/// route back to the pod subnet: a pod's connection there only works, and is only seen coming
/// from the node's address, when the node masquerades it.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed partial class DefaultNetworkMasqueradeTests(RegistryFixture registry, ITestOutputHelper output) : IAsyncLifetime
{
    private const string DefaultSubnet = "10.87.0.0/16";
    private const string RuleComment = "crioci default network: masquerade " + DefaultSubnet;

    private readonly string _suffix = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..6];
    private readonly int _outsideBlock = Random.Shared.Next(2, 64);
    private DaemonProcess _daemon = null!;
    private Process? _outsideServer;

    private string OutsideNamespace => "crioci-e2e-out-" + _suffix;
    private string HostVeth => "ceo" + _suffix;
    private string NodeAddress => $"198.18.{_outsideBlock}.1";
    private string OutsideAddress => $"198.18.{_outsideBlock}.2";

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;
    private string LogDirectory => Path.Combine(_daemon.BaseDirectory, "pod-logs");

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
        if (_outsideServer is { } server)
        {
            server.Kill();
            await server.WaitForExitAsync();
            server.Dispose();
        }
        // Deleting the namespace destroys its veth end, and with it the node's end.
        await CommandRunner.RunUncheckedAsync("ip", ["netns", "del", OutsideNamespace]);
    }

    [Fact]
    public async Task PodOnDefaultNetwork_ReachesOutsideMasqueradedByOneNodeRule_AcrossDaemonRestart()
    {
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        await StartOutsideServerAsync();

        var (firstPod, firstContainer) = await RunPodAsync("masq-first");
        await AssertMasqueradedByNodeRuleAsync(firstPod, firstContainer);

        // A restarted daemon finds its rule in place and adds no copy.
        await _daemon.KillAsync();
        await _daemon.DisposeAsync();
        Assert.Equal(1, CountRules(await NatRulesAsync()));
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);

        var (secondPod, secondContainer) = await RunPodAsync("masq-second");
        await AssertMasqueradedByNodeRuleAsync(secondPod, secondContainer);

        foreach (var pod in new[] { firstPod, secondPod })
        {
            await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod });
            await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod });
        }
        // Pods come and go; the node's rule stays, once.
        Assert.Equal(1, CountRules(await NatRulesAsync()));
    }

    private async Task AssertMasqueradedByNodeRuleAsync(string pod, string container)
    {
        var podIp = (await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod })).Status.Network.Ip;
        var before = await RuleCountersAsync();

        var seen = await FetchFromOutsideAsync(container);

        output.WriteLine($"pod {podIp} seen outside as {seen}");
        Assert.Equal(NodeAddress, seen);
        // Our rule did the rewriting (a stale per-pod rule earlier in the chain would have been
        // counted instead), and nothing per pod was installed.
        Assert.True(await RuleCountersAsync() > before, "the node-wide masquerade rule matched no new connection");
        var rules = await NatRulesAsync();
        Assert.Equal(1, CountRules(rules));
        Assert.DoesNotContain(pod, rules);
        Assert.DoesNotContain($"-s {podIp}/32", rules);
    }

    /// <summary>A busybox httpd in its own namespace whose CGI answers with the client address it sees.</summary>
    private async Task StartOutsideServerAsync()
    {
        await CommandRunner.RunAsync("ip", ["netns", "add", OutsideNamespace]);
        await CommandRunner.RunAsync("ip", ["link", "add", HostVeth, "type", "veth", "peer", "name", "ext0", "netns", OutsideNamespace]);
        await CommandRunner.RunAsync("ip", ["addr", "add", NodeAddress + "/30", "dev", HostVeth]);
        await CommandRunner.RunAsync("ip", ["link", "set", HostVeth, "up"]);
        await CommandRunner.RunAsync("ip", ["-n", OutsideNamespace, "addr", "add", OutsideAddress + "/30", "dev", "ext0"]);
        await CommandRunner.RunAsync("ip", ["-n", OutsideNamespace, "link", "set", "ext0", "up"]);
        await CommandRunner.RunAsync("ip", ["-n", OutsideNamespace, "link", "set", "lo", "up"]);

        var site = Path.Combine(_daemon.BaseDirectory, "outside-site");
        var script = Path.Combine(site, "cgi-bin", "peer");
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        await File.WriteAllTextAsync(script, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' \"$REMOTE_ADDR\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", OutsideNamespace, "busybox", "httpd", "-f", "-p", OutsideAddress + ":8080", "-h", site })
        {
            start.ArgumentList.Add(argument);
        }
        _outsideServer = Process.Start(start) ?? throw new InvalidOperationException("busybox httpd did not start");
    }

    private async Task<string> FetchFromOutsideAsync(string container)
    {
        // busybox-static's wget: no -T (see NetworkTests); the exec timeout bounds it.
        for (var attempt = 0; ; attempt++)
        {
            var response = await Runtime.ExecSyncAsync(new ExecSyncRequest
            {
                ContainerId = container,
                Cmd = { "wget", "-O", "-", $"http://{OutsideAddress}:8080/cgi-bin/peer" },
                Timeout = 10,
            });
            if (response.ExitCode == 0)
            {
                return response.Stdout.ToStringUtf8().Trim();
            }
            Assert.True(attempt < 20, $"wget from the pod failed: exit {response.ExitCode}: {response.Stderr.ToStringUtf8()}");
            await Task.Delay(200);
        }
    }

    private async Task<(string Pod, string Container)> RunPodAsync(string name)
    {
        var config = CriRequests.Pod(name, LogDirectory);
        var pod = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
        var container = await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod,
            Config = CriRequests.Container(name + "-ctr", registry.BusyboxLatest.Reference, "sleep", "3600"),
            SandboxConfig = config,
        });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container.ContainerId });
        return (pod, container.ContainerId);
    }

    private static async Task<string> NatRulesAsync() =>
        (await CommandRunner.RunAsync("iptables", ["-w", "-t", "nat", "-S"])).StandardOutput;

    private static int CountRules(string rules) =>
        rules.Split('\n').Count(line => line.StartsWith("-A POSTROUTING ", StringComparison.Ordinal) && line.Contains(RuleComment, StringComparison.Ordinal));

    /// <summary>The packets our rule has matched: nat rules see the first packet of each connection.</summary>
    private static async Task<long> RuleCountersAsync()
    {
        var listing = (await CommandRunner.RunAsync("iptables", ["-w", "-t", "nat", "-v", "-S", "POSTROUTING"])).StandardOutput;
        var line = Assert.Single(listing.Split('\n'), l => l.Contains(RuleComment, StringComparison.Ordinal));
        return long.Parse(CounterOption().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"-c (\d+) \d+")]
    private static partial Regex CounterOption();
}
