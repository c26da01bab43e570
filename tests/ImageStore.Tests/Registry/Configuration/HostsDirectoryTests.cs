using CriOci.Core;
using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Registry.Configuration;
using CriOci.ImageStore.Tests.Fixtures;

namespace CriOci.ImageStore.Tests.Registry.Configuration;

public sealed class HostsDirectoryTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private HostsDirectory Hosts => new(directory.Path, new RegistryEndpoint([]));

    private void Write(string host, string toml)
    {
        Directory.CreateDirectory(directory.Combine(host));
        File.WriteAllText(directory.Combine(host, HostsDirectory.FileName), toml);
    }

    [Fact]
    public void Resolve_NoDirectoryConfigured_UpstreamOnly()
    {
        // Act
        var hosts = new HostsDirectory(null, new RegistryEndpoint([])).Resolve("docker.io", "registry-1.docker.io");

        // Assert
        var upstream = Assert.Single(hosts);
        Assert.Equal(new Uri("https://registry-1.docker.io/v2/"), upstream.BaseUri);
        Assert.Null(upstream.Namespace);
        Assert.True(upstream.Tls.IsDefault);
    }

    [Fact]
    public void Resolve_MirrorsAndServer_MirrorsInFileOrderThenServer()
    {
        // Arrange
        Write("docker.io", """
            server = "https://registry-1.docker.io"
            [host."http://mirror-b.local:5000"]
              capabilities = ["pull"]
            [host."https://mirror-a.local/proxy"]
              ca = "certs/a.pem"
              client = [["client.cert", "client.key"], "both.pem"]
              skip_verify = true
              header.X-Mirror = ["one", "two"]
            [host."https://exact.local/custom/api"]
              override_path = true
            """);

        // Act
        var hosts = Hosts.Resolve("docker.io", "registry-1.docker.io");

        // Assert
        Assert.Equal(
            ["http://mirror-b.local:5000/v2/", "https://mirror-a.local/proxy/v2/", "https://exact.local/custom/api/", "https://registry-1.docker.io/v2/"],
            hosts.Select(h => h.BaseUri.ToString()));
        Assert.Equal(["mirror-b.local:5000", "mirror-a.local", "exact.local", "registry-1.docker.io"], hosts.Select(h => h.Host));
        Assert.Equal(["docker.io", "docker.io", "docker.io", null], hosts.Select(h => h.Namespace));
        Assert.Equal(HostCapabilities.Pull, hosts[0].Capabilities);
        Assert.Equal(HostCapabilities.Pull | HostCapabilities.Resolve, hosts[1].Capabilities);
        Assert.True(hosts[0].IsPlainHttp);
        var tls = hosts[1].Tls;
        Assert.True(tls.SkipVerify);
        Assert.Equal([directory.Combine("docker.io", "certs", "a.pem")], tls.CaFiles);
        Assert.Equal(
            [new ClientCertificateFiles(directory.Combine("docker.io", "client.cert"), directory.Combine("docker.io", "client.key")),
             new ClientCertificateFiles(directory.Combine("docker.io", "both.pem"), null)],
            tls.ClientCertificates);
        Assert.Equal(["one", "two"], hosts[1].Headers["x-mirror"]);
    }

    [Fact]
    public void Resolve_NoServerKey_TopLevelSettingsApplyToDefaultUpstream()
    {
        // Arrange
        Write("registry.example:5443", """
            ca = "/etc/ca.pem"
            [host."http://127.0.0.1:6000"]
            """);

        // Act
        var hosts = Hosts.Resolve("registry.example:5443", "registry.example:5443");

        // Assert
        Assert.Equal(["http://127.0.0.1:6000/v2/", "https://registry.example:5443/v2/"], hosts.Select(h => h.BaseUri.ToString()));
        Assert.Equal(["/etc/ca.pem"], hosts[1].Tls.CaFiles);
        Assert.Equal("registry.example:5443", hosts[0].Namespace);
    }

    [Fact]
    public void Resolve_HostWithoutDirectory_UsesDefaultDirectory()
    {
        // Arrange
        Write(HostsDirectory.DefaultDirectory, """
            [host."http://cache.local"]
            """);

        // Act
        var hosts = Hosts.Resolve("quay.io", "quay.io");

        // Assert
        Assert.Equal(["cache.local", "quay.io"], hosts.Select(h => h.Host));
        Assert.Equal("quay.io", hosts[0].Namespace);
    }

    [Fact]
    public void Resolve_DockerCertsDirectoryWithoutHostsToml_ReadsCrtCertKeyFiles()
    {
        // Arrange
        var hostDirectory = directory.Combine("registry.example");
        Directory.CreateDirectory(hostDirectory);
        File.WriteAllText(Path.Combine(hostDirectory, "ca.crt"), "");
        File.WriteAllText(Path.Combine(hostDirectory, "client.cert"), "");
        File.WriteAllText(Path.Combine(hostDirectory, "client.key"), "");
        File.WriteAllText(Path.Combine(hostDirectory, "lonely.cert"), "");

        // Act
        var upstream = Assert.Single(Hosts.Resolve("registry.example", "registry.example"));

        // Assert
        Assert.Equal([Path.Combine(hostDirectory, "ca.crt")], upstream.Tls.CaFiles);
        Assert.Equal([new ClientCertificateFiles(Path.Combine(hostDirectory, "client.cert"), Path.Combine(hostDirectory, "client.key"))], upstream.Tls.ClientCertificates);
    }

    public static TheoryData<string, string> InvalidFiles => new()
    {
        { "[host.\"ftp://mirror\"]", "\"ftp://mirror\" is not an http:// or https:// URL" },
        { "[host.\"https://m\"]\ncapabilities = [\"fetch\"]", "unknown capability \"fetch\"" },
        { "skip_verify = \"yes\"", "skip_verify must be true or false" },
        { "client = [1]", "client must be a path" },
        { "server = 5", "server must be a string URL" },
    };

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Resolve_InvalidFile_ThrowsNamingFileAndProblem(string toml, string problem)
    {
        // Arrange
        Write("bad.example", toml);

        // Act
        var error = Assert.Throws<InvalidArgumentException>(() => Hosts.Resolve("bad.example", "bad.example"));

        // Assert
        Assert.Contains(directory.Combine("bad.example", HostsDirectory.FileName), error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }
}
