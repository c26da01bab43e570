using System.Diagnostics;
using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Registry;
using CriOci.ImageStore.Registry.Configuration;
using CriOci.ImageStore.Tests.Fixtures;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// Pulls through hosts.toml mirrors, per-host TLS and credentials, and against registries
/// that fail, stall or hang (in-process fake registries; the real-registry versions are in
/// RealRegistryConfigurationTests). Root is needed for the unpack.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class RegistryConfigurationPullTests : IAsyncLifetime
{
    private const string Repository = "test/app";

    /// <summary>A name that resolves nowhere: only hosts.toml can make it reachable.</summary>
    private const string MissingDomain = "registry.invalid:5000";

    private readonly TempDirectory root = new();
    private readonly TempDirectory config = new();
    private readonly List<FakeRegistry> registries = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var registry in registries)
        {
            await registry.DisposeAsync();
        }
        root.Dispose();
        config.Dispose();
    }

    [Fact]
    public async Task PullAsync_MirrorHasImage_UpstreamNeverContacted()
    {
        // Arrange
        var upstream = await StartRegistryAsync();
        var mirror = await StartRegistryAsync();
        var image = SmallImage("mirrored");
        mirror.Push(Repository, image, "1.0");
        WriteHosts(MissingDomain, $"""
            server = "http://{upstream.Host}"
            [host."http://{mirror.Host}"]
            """);
        var service = CreateService();

        // Act
        var pulled = await service.PullAsync($"{MissingDomain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        Assert.Equal([$"{MissingDomain}/{Repository}:1.0"], pulled.RepoTags);
        Assert.Empty(upstream.Requests);
        Assert.All(mirror.Requests, r => Assert.EndsWith("?ns=registry.invalid%3A5000", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PullAsync_MirrorLacksImage_FallsBackToUpstream()
    {
        // Arrange
        var upstream = await StartRegistryAsync();
        var mirror = await StartRegistryAsync();
        var image = SmallImage("upstream only");
        upstream.Push(Repository, image, "1.0");
        WriteHosts(MissingDomain, $"""
            server = "http://{upstream.Host}"
            [host."http://{mirror.Host}"]
            """);
        var service = CreateService();

        // Act
        var pulled = await service.PullAsync($"{MissingDomain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        Assert.Equal(1, mirror.RequestCount($"/v2/{Repository}/manifests/1.0"));
        Assert.Equal(1, upstream.RequestCount($"/v2/{Repository}/manifests/1.0"));
    }

    [Fact]
    public async Task PullAsync_PullOnlyMirror_ResolvesTagUpstreamAndFetchesBlobsFromMirror()
    {
        // Arrange
        var upstream = await StartRegistryAsync();
        var mirror = await StartRegistryAsync();
        var image = SmallImage("split");
        upstream.Push(Repository, image, "1.0");
        mirror.Push(Repository, image);
        WriteHosts(MissingDomain, $"""
            server = "http://{upstream.Host}"
            [host."http://{mirror.Host}"]
              capabilities = ["pull"]
            """);
        var service = CreateService();

        // Act
        await service.PullAsync($"{MissingDomain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(0, mirror.RequestCount($"/v2/{Repository}/manifests/1.0"));
        Assert.Equal(1, upstream.RequestCount($"/v2/{Repository}/manifests/1.0"));
        Assert.Equal(1, mirror.RequestCount($"/v2/{Repository}/blobs/{image.Layers[0].Digest}"));
        Assert.Equal(0, upstream.RequestCount($"/v2/{Repository}/blobs/{image.Layers[0].Digest}"));
    }

    [Fact]
    public async Task PullAsync_NoHostMayResolve_FailsNamingCapabilities()
    {
        // Arrange
        var mirror = await StartRegistryAsync();
        WriteHosts(MissingDomain, $"""
            server = "http://{mirror.Host}"
            capabilities = ["pull"]
            """);
        var service = CreateService();

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => service.PullAsync($"{MissingDomain}/{Repository}:1.0", null, CancellationToken.None));

        // Assert
        Assert.Contains("capabilities", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_CredentialsFile_MirrorGetsItsOwnCriCredentialsStayUpstream()
    {
        // Arrange
        var upstream = await StartRegistryAsync();
        var mirror = await StartRegistryAsync();
        upstream.BasicAuth = ("cri-user", "cri-pass");
        mirror.BasicAuth = ("mirror-user", "mirror-pass");
        var image = SmallImage("private");
        mirror.Push(Repository, image, "1.0");
        upstream.Push(Repository, image, "1.0");
        mirror.Push(Repository, SmallImage("other"), "mirror-lacks-nothing");
        WriteHosts(MissingDomain, $"""
            server = "http://{upstream.Host}"
            [host."http://{mirror.Host}"]
            """);
        var credentialsFile = WriteCredentials(mirror.Host, "mirror-user", "mirror-pass");
        var service = CreateService(credentialsFile: credentialsFile);

        // Act
        var pulled = await service.PullAsync(
            $"{MissingDomain}/{Repository}:1.0", new RegistryCredentials("cri-user", "cri-pass", null, null, null), CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        Assert.Empty(upstream.Requests);
        Assert.DoesNotContain(mirror.Authorizations, a => a.Contains(Base64("cri-user:cri-pass"), StringComparison.Ordinal));
        Assert.Contains(mirror.Authorizations, a => a == "Basic " + Base64("mirror-user:mirror-pass"));
    }

    [Fact]
    public async Task PullAsync_UpstreamInCredentialsFileAndNoCriCredentials_UsesFile()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        registry.BasicAuth = ("file-user", "file-pass");
        var image = SmallImage("file");
        registry.Push(Repository, image, "1.0");
        var service = CreateService(credentialsFile: WriteCredentials(registry.Host, "file-user", "file-pass"));

        // Act
        var pulled = await service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
    }

    [Fact]
    public async Task PullAsync_HttpsWithHostCaAndClientCertificate_Succeeds()
    {
        // Arrange
        using var certificates = TestCertificates.Create(config.Combine("certs"));
        var registry = await StartRegistryAsync(certificates.Server, certificates.Authority);
        var image = SmallImage("tls");
        registry.Push(Repository, image, "1.0");
        var domain = $"secure.invalid:{new Uri($"https://{registry.Host}").Port}";
        WriteHosts(domain, $"""
            server = "https://{registry.Host}"
            ca = "{certificates.CaFile}"
            client = [["{certificates.ClientCertificateFile}", "{certificates.ClientKeyFile}"]]
            """);
        var service = CreateService();

        // Act
        var pulled = await service.PullAsync($"{domain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
    }

    [Fact]
    public async Task PullAsync_HttpsCombinedClientPemAndSkipVerify_Succeeds()
    {
        // Arrange
        using var certificates = TestCertificates.Create(config.Combine("certs"));
        var registry = await StartRegistryAsync(certificates.Server, certificates.Authority);
        var image = SmallImage("skip");
        registry.Push(Repository, image, "1.0");
        var domain = $"skip.invalid:{new Uri($"https://{registry.Host}").Port}";
        WriteHosts(domain, $"""
            server = "https://{registry.Host}"
            skip_verify = true
            client = "{certificates.ClientCombinedFile}"
            """);
        var service = CreateService();

        // Act
        var pulled = await service.PullAsync($"{domain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
    }

    [Fact]
    public async Task PullAsync_ClientCertificateMissingThenWritten_FailsNamingFileThenSucceeds()
    {
        // Arrange
        using var certificates = TestCertificates.Create(config.Combine("certs"));
        var registry = await StartRegistryAsync(certificates.Server, certificates.Authority);
        var image = SmallImage("rotated");
        registry.Push(Repository, image, "1.0");
        var domain = $"rotate.invalid:{new Uri($"https://{registry.Host}").Port}";
        var pending = config.Combine("pending.pem");
        WriteHosts(domain, $"""
            server = "https://{registry.Host}"
            ca = "{certificates.CaFile}"
            client = "{pending}"
            """);
        var service = CreateService();

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{domain}/{Repository}:1.0", null, CancellationToken.None));
        File.Copy(certificates.ClientCombinedFile, pending);
        var pulled = await service.PullAsync($"{domain}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Contains($"client certificate {pending}", error.Message, StringComparison.Ordinal);
        Assert.Equal(image.ConfigDigest, pulled.Id);
    }

    [Fact]
    public async Task PullAsync_HttpsWithoutHostCa_FailsNamingHostAndIsNotRetried()
    {
        // Arrange
        using var certificates = TestCertificates.Create(config.Combine("certs"));
        var registry = await StartRegistryAsync(certificates.Server, null);
        registry.Push(Repository, SmallImage("untrusted"), "1.0");
        var domain = $"untrusted.invalid:{new Uri($"https://{registry.Host}").Port}";
        WriteHosts(domain, $"""server = "https://{registry.Host}" """);
        var service = CreateService(attempts: 4);

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{domain}/{Repository}:1.0", null, CancellationToken.None));

        // Assert
        Assert.Contains($"registry {registry.Host}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("gave up", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullAsync_Two503sThenSuccess_RetriesAndSucceeds()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var image = SmallImage("flaky");
        registry.Push(Repository, image, "1.0");
        var manifestPath = $"/v2/{Repository}/manifests/1.0";
        registry.Interceptor = async (context, count) =>
        {
            if (context.Request.Path == manifestPath && count <= 2)
            {
                context.Response.StatusCode = 503;
                await context.Response.WriteAsync("""{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}""");
                return true;
            }
            return false;
        };
        var service = CreateService(attempts: 3);

        // Act
        var pulled = await service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        Assert.Equal(3, registry.RequestCount(manifestPath));
    }

    [Fact]
    public async Task PullAsync_Always500_GivesUpAfterBoundWithRegistryMessage()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        registry.Push(Repository, SmallImage("broken"), "1.0");
        var manifestPath = $"/v2/{Repository}/manifests/1.0";
        registry.Interceptor = async (context, _) =>
        {
            context.Response.StatusCode = 500;
            await context.Response.WriteAsync("storage exploded");
            return true;
        };
        var service = CreateService(attempts: 3);

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None));

        // Assert
        Assert.Equal(3, registry.RequestCount(manifestPath));
        Assert.Contains($"registry {registry.Host} answered 500 InternalServerError", error.Message, StringComparison.Ordinal);
        Assert.Contains("storage exploded", error.Message, StringComparison.Ordinal);
        Assert.Contains("gave up after 3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
    }

    [Fact]
    public async Task PullAsync_NotFound_IsNotRetried()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var service = CreateService(attempts: 4);

        // Act
        await Assert.ThrowsAsync<NotFoundException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:absent", null, CancellationToken.None));

        // Assert
        Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/manifests/absent"));
    }

    [Fact]
    public async Task PullAsync_RegistryNeverAnswers_FailsWithinTimeoutBound()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        registry.Interceptor = async (context, _) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        var service = CreateService(attempts: 2, requestTimeout: TimeSpan.FromSeconds(1));
        var stopwatch = Stopwatch.StartNew();

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None));

        // Assert
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed}");
        Assert.Contains($"registry {registry.Host}: manifest {registry.Host}/{Repository}:1.0: no complete answer within 1 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("gave up after 2 attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, registry.RequestCount($"/v2/{Repository}/manifests/1.0"));
    }

    [Fact]
    public async Task PullAsync_BlobStallsThenConnectionDrops_RetriedFromStartAndVerified()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var image = TestImage.Create("amd64", ["run"], TestImage.Layer(new LayerBuilder().File("big", new string('x', 300_000) + Guid.NewGuid())));
        registry.Push(Repository, image, "1.0");
        var blobPath = $"/v2/{Repository}/blobs/{image.Layers[0].Digest}";
        var blob = image.Layers[0].Blob;
        registry.Interceptor = async (context, count) =>
        {
            if (context.Request.Path != blobPath || count > 2)
            {
                return false;
            }
            context.Response.ContentLength = blob.Length;
            await context.Response.Body.WriteAsync(blob.AsMemory(0, blob.Length / 2));
            await context.Response.Body.FlushAsync();
            if (count == 1)
            {
                // Stall: headers and half the body, then silence.
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            else
            {
                // Reset: the connection drops mid-body.
                context.Abort();
            }
            return true;
        };
        var service = CreateService(attempts: 3, readTimeout: TimeSpan.FromSeconds(1));

        // Act
        var pulled = await service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None);

        // Assert
        Assert.Equal(image.ConfigDigest, pulled.Id);
        Assert.Equal(3, registry.RequestCount(blobPath));
        Assert.Empty(Directory.EnumerateFileSystemEntries(root.Combine("content", "ingest")));
    }

    [Fact]
    public async Task PullAsync_BlobAlwaysStalls_FailsNamingBlobAndSilence()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var image = SmallImage("stall");
        registry.Push(Repository, image, "1.0");
        var blobPath = $"/v2/{Repository}/blobs/{image.Layers[0].Digest}";
        registry.Interceptor = async (context, _) =>
        {
            if (context.Request.Path != blobPath)
            {
                return false;
            }
            context.Response.ContentLength = 1000;
            await context.Response.Body.WriteAsync(new byte[10]);
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return true;
        };
        var service = CreateService(attempts: 2, readTimeout: TimeSpan.FromSeconds(1));

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:1.0", null, CancellationToken.None));

        // Assert
        Assert.Contains($"blob {image.Layers[0].Digest}", error.Message, StringComparison.Ordinal);
        Assert.Contains("no data received for 1 s", error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
    }

    [Fact]
    public async Task PullAsync_ManifestOverFourMebibytes_RefusedWithoutRetry()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var huge = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"pad\":\"" + new string('a', RegistrySession.MaxManifestBytes) + "\"}");
        registry.AddManifest(Repository, "huge", TestImage.OciManifest, huge);
        var service = CreateService(attempts: 3);

        // Act
        var error = await Assert.ThrowsAsync<UnavailableException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:huge", null, CancellationToken.None));

        // Assert
        Assert.Contains($"manifest {registry.Host}/{Repository}:huge is larger than 4194304 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, registry.RequestCount($"/v2/{Repository}/manifests/huge"));
    }

    [Fact]
    public async Task PullAsync_ConfigDescriptorOverBound_RefusedBeforeFetching()
    {
        // Arrange
        var registry = await StartRegistryAsync();
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{TestImage.OciManifest}}",
             "config":{"mediaType":"{{TestImage.OciConfig}}","digest":"sha256:{{new string('c', 64)}}","size":{{ImageService.MaxConfigBytes + 1}}},
             "layers":[]}
            """);
        registry.AddManifest(Repository, "fat", TestImage.OciManifest, manifest);
        var service = CreateService();

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => service.PullAsync($"{registry.Host}/{Repository}:fat", null, CancellationToken.None));

        // Assert
        Assert.Contains($"config sha256:{new string('c', 64)} of {registry.Host}/{Repository}:fat is 16777217 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, registry.RequestCount($"/v2/{Repository}/blobs/sha256:{new string('c', 64)}"));
    }

    private async Task<FakeRegistry> StartRegistryAsync(
        System.Security.Cryptography.X509Certificates.X509Certificate2? serverCertificate = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientAuthority = null)
    {
        var registry = await FakeRegistry.StartAsync(serverCertificate, clientAuthority);
        registries.Add(registry);
        return registry;
    }

    private void WriteHosts(string domain, string toml)
    {
        Directory.CreateDirectory(config.Combine("hosts", domain));
        File.WriteAllText(config.Combine("hosts", domain, HostsDirectory.FileName), toml);
    }

    private string WriteCredentials(string host, string user, string password)
    {
        var path = config.Combine("config.json");
        var auth = Base64($"{user}:{password}");
        File.WriteAllText(path, "{\"auths\":{\"http://" + host + "/v2/\":{\"auth\":\"" + auth + "\"}}}");
        return path;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static TestImage SmallImage(string content) =>
        TestImage.Create("amd64", ["run"], TestImage.Layer(new LayerBuilder().File("content", content)));

    private IImageService CreateService(
        string? credentialsFile = null, int attempts = 1, TimeSpan? requestTimeout = null, TimeSpan? readTimeout = null)
    {
        var options = new ImageStoreOptions(root.Path, [])
        {
            Platform = new ImagePlatform("linux", "amd64"),
            RegistryConfigDirectory = config.Combine("hosts"),
            CredentialsFile = credentialsFile,
            RegistryMaxAttempts = attempts,
            RegistryRetryInitialDelay = TimeSpan.FromMilliseconds(20),
            RegistryRequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(30),
            RegistryReadTimeout = readTimeout ?? TimeSpan.FromSeconds(30),
        };
        return new ImageService(options, RegistryClient.Create(options, NullLogger.Instance), NullLogger.Instance, TimeProvider.System);
    }
}
