using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Registry.Configuration;
using CriOci.ImageStore.Tests.Fixtures;

namespace CriOci.ImageStore.Tests.Registry.Configuration;

public sealed class DockerCredentialsFileTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private DockerCredentialsFile Write(string json)
    {
        var path = directory.Combine("config.json");
        File.WriteAllText(path, json);
        return new DockerCredentialsFile(path);
    }

    [Fact]
    public void Find_EntriesOfEachKind_ReturnsThemByNormalisedHost()
    {
        // Arrange
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:secret"));
        var file = Write($$"""
            {
              "auths": {
                "https://index.docker.io/v1/": { "auth": "{{auth}}" },
                "http://registry.local:5000/v2/": { "username": "bob", "password": "pw" },
                "token.example": { "identitytoken": "refresh-me" },
                "direct.example": { "registrytoken": "bearer-me" },
                "empty.example": {}
              },
              "credsStore": "ignored"
            }
            """);

        // Act + Assert
        Assert.Equal(auth, file.Find("docker.io")?.Auth);
        Assert.Equal(auth, file.Find("registry-1.docker.io")?.Auth);
        Assert.Equal(("bob", "pw"), (file.Find("registry.local:5000")?.Username, file.Find("registry.local:5000")?.Password));
        Assert.Equal("refresh-me", file.Find("TOKEN.example")?.IdentityToken);
        Assert.Equal("bearer-me", file.Find("direct.example")?.RegistryToken);
        Assert.Null(file.Find("empty.example"));
        Assert.Null(file.Find("registry.local"));
    }

    [Fact]
    public void Find_LegacyDockercfgShape_ReadsTopLevelMap()
    {
        // Arrange
        var file = Write("""{ "quay.io": { "username": "u", "password": "p" } }""");

        // Act + Assert
        Assert.Equal("u", file.Find("quay.io")?.Username);
    }

    [Fact]
    public void Find_NoOrMissingFile_Null()
    {
        Assert.Null(new DockerCredentialsFile(null).Find("docker.io"));
        Assert.Null(new DockerCredentialsFile(directory.Combine("absent.json")).Find("docker.io"));
    }

    [Fact]
    public void Find_InvalidJson_ThrowsNamingFile()
    {
        // Arrange
        var file = Write("{ not json");

        // Act
        var error = Assert.Throws<InvalidArgumentException>(() => file.Find("docker.io"));

        // Assert
        Assert.Contains(directory.Combine("config.json"), error.Message, StringComparison.Ordinal);
    }
}
