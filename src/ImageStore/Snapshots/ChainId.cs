using System.Text;
using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Snapshots;

/// <summary>
/// OCI chain IDs (image-spec config.md, "Layer ChainID"): ChainID(L0) = DiffID(L0),
/// ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)). A chain ID names a layer
/// together with everything below it, so equal chain IDs can share one unpacked directory.
/// </summary>
internal static class ChainId
{
    public static IReadOnlyList<Digest> Compute(IReadOnlyList<Digest> diffIds)
    {
        var chain = new List<Digest>(diffIds.Count);
        foreach (var diffId in diffIds)
        {
            chain.Add(chain.Count == 0
                ? diffId
                : Digest.ComputeSha256(Encoding.ASCII.GetBytes($"{chain[^1]} {diffId}")));
        }
        return chain;
    }
}
