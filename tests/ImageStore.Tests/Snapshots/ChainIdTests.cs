using System.Security.Cryptography;
using System.Text;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Snapshots;

namespace CriOci.ImageStore.Tests.Snapshots;

public sealed class ChainIdTests
{
    [Fact]
    public void Compute_ThreeLayers_FollowsImageSpecRecursion()
    {
        // Arrange
        var diffIds = new[] { "a", "b", "c" }.Select(s => Digest.ComputeSha256(Encoding.ASCII.GetBytes(s))).ToList();
        static string Sha256(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text)));
        var second = Sha256($"{diffIds[0]} {diffIds[1]}");
        var third = Sha256($"{second} {diffIds[2]}");

        // Act
        var chainIds = ChainId.Compute(diffIds);

        // Assert
        Assert.Equal([diffIds[0].ToString(), second, third], chainIds.Select(c => c.ToString()));
    }
}
