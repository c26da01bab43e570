namespace CriOci.PodSandbox.Containers;

/// <summary>The numeric identity a container process runs as.</summary>
public sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids);
