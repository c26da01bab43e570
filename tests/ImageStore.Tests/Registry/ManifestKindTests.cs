using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Tests.Registry;

public sealed class ManifestKindTests
{
    [Theory]
    [InlineData(MediaTypes.DockerSchema1SignedManifest, "{}")]
    [InlineData(MediaTypes.DockerSchema1Manifest, "{}")]
    [InlineData("application/json", "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}")]
    [InlineData(null, "{\"schemaVersion\":1}")]
    public void Detect_Schema1_IsRefusedClearly(string? contentType, string body)
    {
        // Act
        var error = Assert.Throws<FailedPreconditionException>(
            () => ManifestKind.Detect(contentType, Encoding.UTF8.GetBytes(body), "example/old:1"));

        // Assert
        Assert.Contains("schema 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("example/old:1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex, "{}", MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifest, "{}", MediaTypes.DockerManifest)]
    [InlineData("application/json", "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":[]}", MediaTypes.DockerManifestList)]
    [InlineData("application/octet-stream", "{\"schemaVersion\":2,\"manifests\":[]}", MediaTypes.OciIndex)]
    [InlineData(null, "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", MediaTypes.OciManifest)]
    public void Detect_ContentTypeOrDocument_GivesMediaType(string? contentType, string body, string expected)
    {
        // Act
        var mediaType = ManifestKind.Detect(contentType, Encoding.UTF8.GetBytes(body), "example/image");

        // Assert
        Assert.Equal(expected, mediaType);
    }
}
