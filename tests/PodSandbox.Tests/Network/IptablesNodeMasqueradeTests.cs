using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

/// <summary>The rule's shape; tests/e2e/DefaultNetworkMasqueradeTests.cs proves it on the node's nat table.</summary>
public sealed class IptablesNodeMasqueradeTests
{
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
