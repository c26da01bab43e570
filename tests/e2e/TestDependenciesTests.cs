using CriOci.TestSupport;

namespace CriOci.E2E;

public sealed class TestDependenciesTests
{
    [Fact]
    public void RequireFile_MissingPath_ThrowsNamingDebianPackageAndScript()
    {
        var ex = Assert.Throws<MissingTestDependencyException>(
            () => TestDependencies.RequireFile("/nonexistent/crioci-registry", "docker-registry"));

        Assert.Contains("/nonexistent/crioci-registry", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'docker-registry'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(TestDependencies.InstallScript, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RequireFile_ExistingPath_ReturnsIt()
    {
        Assert.Equal("/bin/sh", TestDependencies.RequireFile("/bin/sh", "dash"));
    }
}
