using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Tests.Registry;

public sealed class RegistryEndpointTests
{
    [Theory]
    [InlineData("localhost", "http")]
    [InlineData("localhost:5000", "http")]
    [InlineData("127.0.0.1:41234", "http")]
    [InlineData("[::1]:5000", "http")]
    [InlineData("registry-1.docker.io", "https")]
    [InlineData("quay.io", "https")]
    [InlineData("insecure.example:5000", "http")]
    [InlineData("insecure.example:6000", "https")]
    [InlineData("plain.example", "http")]
    [InlineData("plain.example:8080", "http")]
    [InlineData("127.0.0.2:5000", "https")]
    public void BaseUri_Host_UsesPlainHttpOnlyForLoopbackAndConfigured(string host, string scheme)
    {
        // Arrange
        var endpoint = new RegistryEndpoint(["insecure.example:5000", "plain.example"]);

        // Act
        var uri = endpoint.BaseUri(host);

        // Assert
        Assert.Equal(scheme, uri.Scheme);
        Assert.Equal("/v2/", uri.AbsolutePath);
    }
}
