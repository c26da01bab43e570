using CriOci.Core;
using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Tests.Registry;

public sealed class PlatformSelectorTests
{
    private static readonly IReadOnlyList<OciDescriptor> Manifests =
    [
        Entry("amd64-digest", "linux", "amd64"),
        Entry("arm64-digest", "linux", "arm64", "v8"),
        Entry("armv6-digest", "linux", "arm", "v6"),
        Entry("armv7-digest", "linux", "arm", "v7"),
        Entry("windows-digest", "windows", "amd64"),
        Entry("attestation-digest", "unknown", "unknown"),
    ];

    [Theory]
    [InlineData("amd64", null, "amd64-digest")]
    [InlineData("x86_64", null, "amd64-digest")]
    [InlineData("arm64", null, "arm64-digest")]
    [InlineData("aarch64", null, "arm64-digest")]
    [InlineData("arm64", "v8", "arm64-digest")]
    [InlineData("arm", null, "armv7-digest")]
    [InlineData("arm", "v7", "armv7-digest")]
    [InlineData("arm", "v6", "armv6-digest")]
    [InlineData("arm", "v8", "armv7-digest")]
    public void Select_Platform_PicksBestMatchingLinuxManifest(string architecture, string? variant, string expected)
    {
        // Act
        var chosen = PlatformSelector.Select(Manifests, new ImagePlatform("linux", architecture, variant), "test");

        // Assert
        Assert.Equal(expected, chosen.Digest);
    }

    [Fact]
    public void Select_NoMatch_ThrowsNotFoundListingPlatforms()
    {
        // Act
        var error = Assert.Throws<NotFoundException>(
            () => PlatformSelector.Select(Manifests, new ImagePlatform("linux", "s390x"), "example/image"));

        // Assert
        Assert.Contains("linux/s390x", error.Message, StringComparison.Ordinal);
        Assert.Contains("linux/arm64/v8", error.Message, StringComparison.Ordinal);
        Assert.Contains("example/image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Current_OnThisMachine_IsLinuxWithOciArchitectureName()
    {
        // Act
        var current = PlatformSelector.Current;

        // Assert
        Assert.Equal("linux", current.Os);
        Assert.Contains(current.Architecture, new[] { "amd64", "arm64", "arm", "386", "s390x", "ppc64le", "riscv64", "loong64" });
    }

    private static OciDescriptor Entry(string digest, string os, string architecture, string? variant = null) =>
        new(MediaTypes.OciManifest, digest, 100, new OciPlatform(os, architecture, variant));
}
