namespace CriOci.PodSandbox.Network;

/// <summary>
/// Source NAT for the built-in default network, set up once per node and subnet instead of once
/// per pod. The bridge plugin's ipMasq gives every pod its own nat chain (containernetworking/plugins
/// pkg/ip SetupIPMasq: from the pod's IP, leave traffic to the pod subnet alone, masquerade
/// everything else except multicast), which costs fifteen iptables runs per pod between ADD and
/// DEL (strace of the benchmark: 150 for 10 pods). One rule per subnet does the same for every pod
/// of that subnet: source in the subnet, destination outside it and not multicast.
/// </summary>
internal interface INodeMasquerade
{
    /// <summary>Makes sure the rule of every subnet in <paramref name="subnets"/> is installed; idempotent.</summary>
    Task EnsureAsync(IReadOnlyList<string> subnets, CancellationToken cancellationToken);
}
