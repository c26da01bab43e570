using CriOci.Core;
using CriOci.ImageStore.Reference;

namespace CriOci.ImageStore.Tests.Reference;

public sealed class ImageReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static TheoryData<string, string> NormalisedReferences => new()
    {
        { "busybox", "docker.io/library/busybox:latest" },
        { "busybox:1.36", "docker.io/library/busybox:1.36" },
        { "library/busybox", "docker.io/library/busybox:latest" },
        { "docker.io/busybox", "docker.io/library/busybox:latest" },
        { "docker.io/library/busybox:latest", "docker.io/library/busybox:latest" },
        { "index.docker.io/busybox", "docker.io/library/busybox:latest" },
        { "index.docker.io/foo/bar:v1", "docker.io/foo/bar:v1" },
        { "foo/bar", "docker.io/foo/bar:latest" },
        { "foo/bar/baz", "docker.io/foo/bar/baz:latest" },
        { "quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0" },
        { "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10" },
        { "localhost/foo", "localhost/foo:latest" },
        { "localhost:5000/foo/bar:tag", "localhost:5000/foo/bar:tag" },
        { "127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest" },
        { "[::1]:5000/busybox:1", "[::1]:5000/busybox:1" },
        { "Example.com/foo", "Example.com/foo:latest" },
        { "foo:5000", "docker.io/library/foo:5000" },
        { "a_b-c__d/e---f.g", "docker.io/a_b-c__d/e---f.g:latest" },
        { "busybox:Tag_1.0-rc", "docker.io/library/busybox:Tag_1.0-rc" },
        { "busybox@sha256:" + Hex, "docker.io/library/busybox@sha256:" + Hex },
        { "busybox:1.36@sha256:" + Hex, "docker.io/library/busybox:1.36@sha256:" + Hex },
        { "ghcr.io/o/r@sha256:" + Hex, "ghcr.io/o/r@sha256:" + Hex },
        { "busybox:" + new string('t', 128), "docker.io/library/busybox:" + new string('t', 128) },
    };

    public static TheoryData<string> InvalidReferences => new()
    {
        "",
        "Busybox",
        "docker.io/Library/busybox",
        "foo/Bar",
        "busybox:",
        ":tag",
        "busybox@sha256:abc",
        "busybox@sha256:" + Hex.ToUpperInvariant(),
        "busybox@md5:0123456789abcdef0123456789abcdef",
        Hex,
        "foo//bar",
        "-foo",
        "foo/-bar",
        "foo/bar/",
        "busybox:tag with space",
        "busybox:" + new string('t', 129),
        "busybox:.tag",
        "http://example.com/foo",
        "a_b.c/d",
        "example.com/" + new string('a', 250),
    };

    [Theory]
    [MemberData(nameof(NormalisedReferences))]
    public void Parse_ValidReference_Normalises(string input, string expected)
    {
        // Act
        var reference = ImageReference.Parse(input);

        // Assert
        Assert.Equal(expected, reference.ToString());
    }

    [Theory]
    [MemberData(nameof(InvalidReferences))]
    public void Parse_InvalidReference_ThrowsInvalidArgumentNamingIt(string input)
    {
        // Act
        var error = Assert.Throws<InvalidArgumentException>(() => ImageReference.Parse(input));

        // Assert
        Assert.Contains($"\"{input}\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "registry-1.docker.io")]
    [InlineData("quay.io/a/b", "quay.io", "a/b", "quay.io")]
    [InlineData("localhost:5000/x", "localhost:5000", "x", "localhost:5000")]
    public void Parse_Reference_SplitsDomainPathAndRegistryHost(string input, string domain, string path, string registryHost)
    {
        // Act
        var reference = ImageReference.Parse(input);

        // Assert
        Assert.Equal(domain, reference.Domain);
        Assert.Equal(path, reference.Path);
        Assert.Equal(registryHost, reference.RegistryHost);
    }

    [Fact]
    public void ManifestReference_TagAndDigest_DigestWins()
    {
        // Arrange
        var reference = ImageReference.Parse($"busybox:1.36@sha256:{Hex}");

        // Act
        var manifestReference = reference.ManifestReference;

        // Assert
        Assert.Equal($"sha256:{Hex}", manifestReference);
    }

    [Fact]
    public void Parse_DigestOnly_HasNoDefaultTag()
    {
        // Act
        var reference = ImageReference.Parse($"busybox@sha256:{Hex}");

        // Assert
        Assert.Null(reference.Tag);
        Assert.Null(reference.TagReference);
        Assert.Equal($"docker.io/library/busybox@sha256:{Hex}", reference.WithDigest($"sha256:{Hex}"));
    }
}
