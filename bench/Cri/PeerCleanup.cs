namespace CriOci.Bench.Cri;

/// <summary>What a peer still listed after the workloads, which remove every pod they create.</summary>
/// <param name="PodsLeft">Pods the peer listed after the workloads; -1 when it did not answer.</param>
public sealed record PeerCleanup(string Peer, int PodsCreated, int PodsLeft, int ContainersLeft);
