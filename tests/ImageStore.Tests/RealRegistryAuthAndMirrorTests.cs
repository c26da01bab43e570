using System.Net;
using System.Net.Sockets;
using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Registry.Configuration;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.TestSupport;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// Real Debian docker-registry processes: one with htpasswd basic auth, one behind a bearer
/// token server (docker-registry "token" auth trusting the test's signing certificate), and
/// the anonymous one of <see cref="RegistryFixture"/>, used as a mirror, for digests and for
/// a two-platform index.
/// </summary>
public sealed class RealRegistriesFixture : IAsyncLifetime
{
    public const string User = "puller";
    public const string Password = "pull-secret";

    private readonly string directory = Directory.CreateTempSubdirectory("crioci-real-registries-").FullName;

    public RegistryFixture Anonymous { get; } = new();

    public RegistryServer Basic { get; private set; } = null!;

    public PushedImage BasicImage { get; private set; } = null!;

    public RegistryServer TokenRegistry { get; private set; } = null!;

    internal TokenServer Tokens { get; private set; } = null!;

    public PushedImage TokenImage { get; private set; } = null!;

    public MultiPlatformImage MultiPlatform { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Anonymous.InitializeAsync();
        MultiPlatform = await RegistryApi.PushTwoPlatformIndexAsync(Anonymous.BusyboxLatest, "multi");

        var htpasswd = Path.Combine(directory, "htpasswd");
        await Htpasswd.WriteAsync(htpasswd, [(User, Password)]);
        Basic = await RegistryServer.StartAsync(new RegistryServerOptions { HtpasswdFile = htpasswd });
        BasicImage = await AuthenticatedPush.PushLatestAsync(Basic.Host, "private", User, Password);

        Tokens = await TokenServer.StartAsync(directory, User, Password);
        TokenRegistry = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            Token = new TokenAuthentication(Tokens.Realm, TokenServer.Service, TokenServer.Issuer, Tokens.RootCertificateBundle),
        });
        TokenImage = await AuthenticatedPush.PushLatestAsync(TokenRegistry.Host, "private", User, Password);
    }

    public async Task DisposeAsync()
    {
        foreach (var registry in new[] { Basic, TokenRegistry }.Where(r => r is not null))
        {
            await registry.DisposeAsync();
        }
        if (Tokens is not null)
        {
            await Tokens.DisposeAsync();
        }
        await Anonymous.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }
}

[Trait("Category", "Privileged")]
public sealed class RealRegistryAuthAndMirrorTests(RealRegistriesFixture fixture) : IClassFixture<RealRegistriesFixture>, IDisposable
{
    private static readonly RegistryCredentials GoodCredentials = new(RealRegistriesFixture.User, RealRegistriesFixture.Password, null, null, null);
    private static readonly RegistryCredentials WrongCredentials = new(RealRegistriesFixture.User, "wrong", null, null, null);

    private readonly TempDirectory root = new();
    private readonly TempDirectory config = new();

    public void Dispose()
    {
        root.Dispose();
        config.Dispose();
    }

    [Fact]
    public async Task PullAsync_HtpasswdRegistryWithCriCredentials_Pulls()
    {
        // Act
        var image = await CreateService().PullAsync(fixture.BasicImage.Reference, GoodCredentials, CancellationToken.None);

        // Assert
        Assert.Contains(fixture.BasicImage.DigestReference, image.RepoDigests);
        Assert.Equal(["sh"], image.Config.Cmd);
    }

    [Fact]
    public async Task PullAsync_HtpasswdRegistryWithAuthFieldFromCredentialsFile_Pulls()
    {
        // Arrange
        var file = config.Combine("config.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RealRegistriesFixture.User}:{RealRegistriesFixture.Password}"));
        File.WriteAllText(file, $$"""{ "auths": { "{{fixture.Basic.Host}}": { "auth": "{{auth}}" } } }""");

        // Act
        var image = await CreateService(credentialsFile: file).PullAsync(fixture.BasicImage.Reference, null, CancellationToken.None);

        // Assert
        Assert.Contains(fixture.BasicImage.DigestReference, image.RepoDigests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PullAsync_HtpasswdRegistryWrongOrNoCredentials_RefusedNamingRegistryAnd401(bool wrongPassword)
    {
        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => CreateService().PullAsync(fixture.BasicImage.Reference, wrongPassword ? WrongCredentials : null, CancellationToken.None));

        // Assert
        Assert.Contains($"registry {fixture.Basic.Host}", error.Message, StringComparison.Ordinal);
        if (wrongPassword)
        {
            Assert.Contains("401 Unauthorized", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("asks for basic authentication and no credentials were given", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PullAsync_TokenRegistryWithCredentials_PullsWithBearerTokenFromTokenServer()
    {
        // Act
        var image = await CreateService().PullAsync(fixture.TokenImage.Reference, GoodCredentials, CancellationToken.None);

        // Assert
        Assert.Contains(fixture.TokenImage.DigestReference, image.RepoDigests);
        Assert.Contains(fixture.Tokens.Requests, r => r.Scope == "repository:busybox:pull" && r.Granted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PullAsync_TokenRegistryWrongOrNoCredentials_RefusedNaming401(bool wrongPassword)
    {
        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => CreateService().PullAsync(fixture.TokenImage.Reference, wrongPassword ? WrongCredentials : null, CancellationToken.None));

        // Assert
        Assert.Contains($"registry {fixture.TokenRegistry.Host}", error.Message, StringComparison.Ordinal);
        Assert.Contains("401 Unauthorized", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_MirrorForHostThatDoesNotExist_PullsThroughMirrorWithoutContactingUpstream()
    {
        // Arrange: the upstream is a listener that counts connections; nothing may reach it.
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        var upstreamPort = ((IPEndPoint)upstream.LocalEndpoint).Port;
        var connections = 0;
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var client = await upstream.AcceptTcpClientAsync();
                    Interlocked.Increment(ref connections);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });
        const string domain = "registry.invalid";
        Directory.CreateDirectory(config.Combine("hosts", domain));
        File.WriteAllText(config.Combine("hosts", domain, HostsDirectory.FileName), $"""
            server = "http://127.0.0.1:{upstreamPort}"

            [host."http://{fixture.Anonymous.Host}"]
              capabilities = ["pull", "resolve"]
            """);

        // Act
        var image = await CreateService().PullAsync($"{domain}/busybox:latest", null, CancellationToken.None);

        // Assert
        Assert.Equal([$"{domain}/busybox:latest"], image.RepoTags);
        Assert.Equal([$"{domain}/busybox@{fixture.Anonymous.BusyboxLatest.ManifestDigest}"], image.RepoDigests);
        Assert.Equal(0, Volatile.Read(ref connections));
        Assert.Contains("ns=registry.invalid", await File.ReadAllTextAsync(fixture.Anonymous.Registry.LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_ByDigest_RecordsDigestWithoutTag()
    {
        // Arrange
        var pushed = fixture.Anonymous.BusyboxLayered;

        // Act
        var image = await CreateService().PullAsync(pushed.DigestReference, null, CancellationToken.None);

        // Assert
        Assert.Empty(image.RepoTags);
        Assert.Equal([pushed.DigestReference], image.RepoDigests);
        Assert.Equal(pushed.ManifestDigest, image.ManifestDigest);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task PullAsync_TwoPlatformIndex_ChoosesConfiguredPlatform(string architecture)
    {
        // Arrange
        var multi = fixture.MultiPlatform;

        // Act
        var image = await CreateService(new ImagePlatform("linux", architecture)).PullAsync(multi.Reference, null, CancellationToken.None);

        // Assert
        Assert.Equal(architecture == "amd64" ? multi.Amd64ConfigDigest : multi.Arm64ConfigDigest, image.Id);
        Assert.Equal(architecture == "amd64" ? multi.Amd64ManifestDigest : multi.Arm64ManifestDigest, image.ManifestDigest);
        Assert.Equal(architecture, image.Config.Architecture);
        Assert.Equal([multi.Reference], image.RepoTags);
        Assert.Equal([$"{multi.Reference[..multi.Reference.LastIndexOf(':')]}@{multi.IndexDigest}"], image.RepoDigests);
    }

    [Fact]
    public async Task PullAsync_TwoPlatformIndexOnThisAmd64Machine_ChoosesAmd64ByDefault()
    {
        // Act
        var image = await ImageServiceFactory.Create(new ImageStoreOptions(root.Path, [])).PullAsync(fixture.MultiPlatform.Reference, null, CancellationToken.None);

        // Assert
        Assert.Equal(CriOci.ImageStore.Registry.PlatformSelector.Current.Architecture, image.Config.Architecture);
    }

    private IImageService CreateService(ImagePlatform? platform = null, string? credentialsFile = null) =>
        ImageServiceFactory.Create(new ImageStoreOptions(root.Path, [])
        {
            Platform = platform,
            RegistryConfigDirectory = config.Combine("hosts"),
            CredentialsFile = credentialsFile,
            RegistryMaxAttempts = 1,
        });
}
