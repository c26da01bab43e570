using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Xunit.Abstractions;

namespace CriOci.E2E;

[Collection(RegistryCollection.Name)]
public sealed class RegistryFixtureTests(RegistryFixture fixture, ITestOutputHelper output)
{
    private const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    private const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public static TheoryData<string, string, string> ManifestCases => new()
    {
        { TestImages.LatestTag, TestImages.OciManifestMediaType, OciLayerGzip },
        { TestImages.V2s2Tag, TestImages.DockerV2Schema2ManifestMediaType, DockerLayerGzip },
    };

    [Theory]
    [MemberData(nameof(ManifestCases))]
    public async Task Registry_AfterFixtureStart_ServesBusyboxManifestsInBothFormats(string tag, string manifestMediaType, string layerMediaType)
    {
        // Arrange
        using var http = CreateClient();

        // Act
        using var manifest = await GetManifestAsync(http, tag, manifestMediaType);

        // Assert
        var root = manifest.RootElement;
        Assert.Equal(2, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(manifestMediaType, root.GetProperty("mediaType").GetString());
        var layer = Assert.Single(root.GetProperty("layers").EnumerateArray());
        Assert.Equal(layerMediaType, layer.GetProperty("mediaType").GetString());
    }

    [Fact]
    public async Task Registry_AfterFixtureStart_ResolvesPushedDigests()
    {
        // Arrange
        using var http = CreateClient();

        foreach (var image in new[] { fixture.BusyboxLatest, fixture.BusyboxV2s2, fixture.BusyboxLayered })
        {
            // Act
            using var request = new HttpRequestMessage(HttpMethod.Head, $"v2/{image.Repository}/manifests/{image.Tag}");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(image.ManifestMediaType));
            using var response = await http.SendAsync(request);

            // Assert
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(image.ManifestDigest, Assert.Single(response.Headers.GetValues("Docker-Content-Digest")));
            Assert.StartsWith("sha256:", image.ManifestDigest, StringComparison.Ordinal);
            Assert.Equal($"{fixture.Host}/busybox@{image.ManifestDigest}", image.DigestReference);
        }
    }

    [Fact]
    public async Task Registry_LayeredImage_HasTwoGzipLayers()
    {
        // Arrange
        using var http = CreateClient();

        // Act
        using var manifest = await GetManifestAsync(http, TestImages.LayeredTag, TestImages.OciManifestMediaType);

        // Assert
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(2, layers.Count);
        Assert.All(layers, layer => Assert.Equal(OciLayerGzip, layer.GetProperty("mediaType").GetString()));
    }

    [Fact]
    public async Task Registry_LayeredImage_SecondLayerAddsFileAndWhitesOutWc()
    {
        // Arrange
        using var http = CreateClient();
        using var manifest = await GetManifestAsync(http, TestImages.LayeredTag, TestImages.OciManifestMediaType);
        var layers = manifest.RootElement.GetProperty("layers").EnumerateArray().ToList();

        // Act
        var baseEntries = await ReadLayerAsync(http, layers[0].GetProperty("digest").GetString()!);
        var topEntries = await ReadLayerAsync(http, layers[1].GetProperty("digest").GetString()!);

        // Assert
        Assert.Equal(TarEntryType.RegularFile, baseEntries["bin/busybox"].Type);
        Assert.Equal((TarEntryType.SymbolicLink, "busybox"), (baseEntries["bin/sh"].Type, baseEntries["bin/sh"].LinkName));
        Assert.Contains("bin/wc", baseEntries.Keys);
        Assert.Contains("etc/passwd", baseEntries.Keys);
        Assert.Equal(TestImages.LayeredAddedFileContent, topEntries["layer2.txt"].Content);
        Assert.Contains("bin/.wh.wc", topEntries.Keys);
    }

    [Fact]
    public async Task Registry_LatestConfig_HasShCmdPathAndNoEntrypoint()
    {
        // Arrange
        using var http = CreateClient();
        using var manifest = await GetManifestAsync(http, TestImages.LatestTag, TestImages.OciManifestMediaType);
        var configDigest = manifest.RootElement.GetProperty("config").GetProperty("digest").GetString();

        // Act
        using var config = JsonDocument.Parse(await http.GetByteArrayAsync($"v2/busybox/blobs/{configDigest}"));

        // Assert
        var root = config.RootElement;
        Assert.Equal("linux", root.GetProperty("os").GetString());
        var runConfig = root.GetProperty("config");
        Assert.Equal(["sh"], runConfig.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([TestImages.PathEnvironment], runConfig.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("/", runConfig.GetProperty("WorkingDir").GetString());
        Assert.False(
            runConfig.TryGetProperty("Entrypoint", out var entrypoint) && entrypoint.ValueKind == JsonValueKind.Array && entrypoint.GetArrayLength() > 0,
            "the busybox test image must have no Entrypoint");
        Assert.Single(root.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray());
    }

    [Fact]
    public void Fixture_AfterStart_ExposesReferencesOnLoopbackRegistry()
    {
        output.WriteLine($"registry {fixture.Host}, log {fixture.Registry.LogPath}");
        output.WriteLine($"image build (or cache hit) and push of 3 tags took {fixture.ImagePreparationTime.TotalMilliseconds:0} ms");
        Assert.StartsWith("127.0.0.1:", fixture.Host, StringComparison.Ordinal);
        Assert.Equal($"{fixture.Host}/busybox:latest", fixture.BusyboxLatest.Reference);
        Assert.Equal($"{fixture.Host}/busybox:v2s2", fixture.BusyboxV2s2.Reference);
        Assert.Equal($"{fixture.Host}/busybox:layered", fixture.BusyboxLayered.Reference);
        Assert.True(File.Exists(fixture.Registry.LogPath), $"registry log {fixture.Registry.LogPath} should exist");
    }

    private static async Task<Dictionary<string, (TarEntryType Type, string LinkName, string? Content)>> ReadLayerAsync(HttpClient http, string digest)
    {
        await using var blob = await http.GetStreamAsync($"v2/{TestImages.Repository}/blobs/{digest}");
        await using var gzip = new GZipStream(blob, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        var entries = new Dictionary<string, (TarEntryType, string, string?)>();
        while (await tar.GetNextEntryAsync() is { } entry)
        {
            string? content = null;
            if (entry.DataStream is not null && entry.Length < 4096)
            {
                using var reader = new StreamReader(entry.DataStream);
                content = await reader.ReadToEndAsync();
            }

            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            entries[name.TrimEnd('/')] = (entry.EntryType, entry.LinkName, content);
        }

        return entries;
    }

    private HttpClient CreateClient() => new() { BaseAddress = fixture.Registry.BaseUri, Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<JsonDocument> GetManifestAsync(HttpClient http, string tag, string mediaType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{TestImages.Repository}/manifests/{tag}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET manifest {tag}: {(int)response.StatusCode} {body}");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body);
    }
}
