using CriOci.ImageStore.Registry;

namespace CriOci.ImageStore.Tests.Registry;

public sealed class AuthChallengeTests
{
    [Fact]
    public void ParseParameters_DockerHubBearerChallenge_ReadsQuotedValues()
    {
        // Act
        var parameters = AuthChallenge.ParseParameters(
            "realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"");

        // Assert
        Assert.Equal("https://auth.docker.io/token", parameters["realm"]);
        Assert.Equal("registry.docker.io", parameters["service"]);
        Assert.Equal("repository:library/busybox:pull", parameters["scope"]);
    }

    [Fact]
    public void ParseParameters_CommasInsideQuotesAndEscapes_StayInValue()
    {
        // Act
        var parameters = AuthChallenge.ParseParameters("scope=\"repository:a:pull,push\", realm = \"x\\\"y\", error=insufficient_scope");

        // Assert
        Assert.Equal("repository:a:pull,push", parameters["scope"]);
        Assert.Equal("x\"y", parameters["realm"]);
        Assert.Equal("insufficient_scope", parameters["error"]);
    }

    [Fact]
    public void ParseParameters_NamesAreCaseInsensitive()
    {
        // Act
        var parameters = AuthChallenge.ParseParameters("Realm=\"r\"");

        // Assert
        Assert.Equal("r", parameters["realm"]);
    }
}
