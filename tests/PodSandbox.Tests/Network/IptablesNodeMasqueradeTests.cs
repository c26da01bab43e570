using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>The rule's shape; tests/e2e/DefaultNetworkMasqueradeTests.cs proves it on the node's nat table.</summary>
public sealed class IptablesNodeMasqueradeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-masq-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;
    }

    /// <summary>
    /// An iptables that logs each call's operation and keeps "the rule" as a file: -C succeeds
    /// while the file exists, -A creates it.
    /// </summary>
    private string FakeIptables()
    {
        var script = Path.Combine(_directory, "iptables");
        File.WriteAllText(script, $$"""
            #!/bin/sh
            for a in "$@"; do case "$a" in -C|-A) echo "$a" >> {{_directory}}/calls;; esac; done
            case " $* " in
              *" -C "*) test -e {{_directory}}/rule;;
              *" -A "*) touch {{_directory}}/rule;;
            esac
            """);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }

    [Fact]
    public async Task Ensure_RuleFlushedBehindItsBack_IsPutBackOnceTheRecheckIntervalHasPassed()
    {
        FakeIptables();
        var clock = new ManualClock();
        var masquerade = new IptablesNodeMasquerade([_directory], TimeSpan.FromSeconds(30), clock);
        string[] subnets = ["10.87.0.0/16"];

        await masquerade.EnsureAsync(subnets, CancellationToken.None);
        await masquerade.EnsureAsync(subnets, CancellationToken.None);
        File.Delete(Path.Combine(_directory, "rule")); // a firewall reload flushes the nat table
        clock.Ticks += TimeSpan.FromSeconds(10).Ticks;
        await masquerade.EnsureAsync(subnets, CancellationToken.None);
        var beforeRecheck = File.ReadAllLines(Path.Combine(_directory, "calls"));
        clock.Ticks += TimeSpan.FromSeconds(25).Ticks;
        await masquerade.EnsureAsync(subnets, CancellationToken.None);

        Assert.Equal(["-C", "-A"], beforeRecheck);
        Assert.Equal(["-C", "-A", "-C", "-A"], File.ReadAllLines(Path.Combine(_directory, "calls")));
        Assert.True(File.Exists(Path.Combine(_directory, "rule")));
    }

    [Fact]
    public async Task Ensure_RulePresent_IsNotAppendedAgain()
    {
        FakeIptables();
        File.WriteAllText(Path.Combine(_directory, "rule"), "");
        var masquerade = new IptablesNodeMasquerade([_directory], TimeSpan.Zero, new ManualClock());

        await masquerade.EnsureAsync(["10.87.0.0/16"], CancellationToken.None);
        await masquerade.EnsureAsync(["10.87.0.0/16"], CancellationToken.None);

        Assert.Equal(["-C", "-C"], File.ReadAllLines(Path.Combine(_directory, "calls")));
    }

    /// <summary>What the bridge plugin's per-pod chain did (pkg/ip SetupIPMasq), for a whole subnet at once.</summary>
    [Theory]
    [InlineData("10.244.1.0/24")]
    [InlineData("fd00:244:1::/64")]
    public void Rule_Subnet_SourceInsideDestinationOutsideNotMulticast(string subnet) =>
        Assert.Equal(
            $"POSTROUTING -s {subnet} ! -d {subnet} -m addrtype ! --dst-type MULTICAST "
            + $"-m comment --comment crioci default network: masquerade {subnet} -j MASQUERADE",
            string.Join(' ', IptablesNodeMasquerade.Rule(subnet)));
}
