using CriOci.Core;

namespace CriOci.ImageStore.Tests;

public sealed class PinnedImagesTests
{
    private static readonly string Id = "sha256:" + new string('a', 64);
    private static readonly string ManifestDigest = "sha256:" + new string('b', 64);

    private static ImageRecord Record(string tag, string repoDigest) => new(
        Id, [tag], [repoDigest], 1, new ImageConfig(null, [], [], [], null, new Dictionary<string, string>(), null, [], "linux", "amd64"),
        [], ManifestDigest, DateTimeOffset.UnixEpoch);

    public static TheoryData<string, bool> Configured => new()
    {
        // Normalised like a pull: short Docker Hub names, default tag.
        { "pause:3.10", true },
        { "docker.io/library/pause:3.10", true },
        { "pause", false },
        { "pause:3.9", false },
        { $"registry.k8s.io/pause@{ManifestDigest}", true },
        { $"registry.k8s.io/pause:3.10@{ManifestDigest}", true },
        { "sha256:" + new string('a', 64), true },
        { "sha256:" + new string('c', 64), false },
    };

    [Theory]
    [MemberData(nameof(Configured))]
    public void Contains_ConfiguredReferenceOrId_MatchesByTagDigestOrId(string configured, bool expected)
    {
        var pinned = new PinnedImages([configured]);

        var docker = pinned.Contains(Record("docker.io/library/pause:3.10", $"docker.io/library/pause@{ManifestDigest}"));
        var k8s = pinned.Contains(Record("registry.k8s.io/pause:3.11", $"registry.k8s.io/pause@{ManifestDigest}"));

        Assert.Equal(expected, docker || k8s);
    }

    [Fact]
    public void Constructor_NotAReference_InvalidArgumentNamingEntry()
    {
        var error = Assert.Throws<InvalidArgumentException>(() => new PinnedImages(["Not A Reference"]));

        Assert.Contains("\"Not A Reference\"", error.Message, StringComparison.Ordinal);
    }
}
