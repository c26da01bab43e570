using System.Text;
using CriOci.Core;
using CriOci.ImageStore;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Registry;
using Xunit.Abstractions;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// A registry decides every byte of a manifest, an index and an image config. The pull's own
/// reading of them (kind detection, parsing, the platform choice, descriptor digests, diff IDs,
/// the config conversion) must turn any document into a clear domain error, never a crash.
/// </summary>
public sealed class ImageManifestFuzzTests(ITestOutputHelper output)
{
    private static readonly ImageReference Reference = ImageReference.Parse("registry.test/fuzz/image:latest");

    private static readonly string?[] ContentTypes =
    [
        null, "application/json", "", "text/plain", MediaTypes.OciIndex, MediaTypes.OciManifest,
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ];

    private static readonly ImagePlatform[] Platforms =
        [new("linux", "amd64"), new("linux", "arm", "v7"), new("linux", "arm64", "v8"), new("LINUX", "x86_64"), new("", "")];

    private const string Manifest = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
         "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":100},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":200,"urls":["http://x"],"annotations":{"a":"b"}},
                   {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha512:33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333","size":300}]}
        """;

    private const string Index = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
         "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","size":500,"platform":{"os":"linux","architecture":"amd64"}},
                      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555","size":500,"platform":{"os":"linux","architecture":"arm","variant":"v6"}},
                      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666","size":500,"platform":{"os":"linux","architecture":"arm64"}}]}
        """;

    private const string Config = """
        {"architecture":"amd64","os":"linux",
         "config":{"User":"1000:1000","Env":["PATH=/bin","A=b"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"WorkingDir":"/w",
                   "Labels":{"l":"v"},"StopSignal":"SIGTERM","ExposedPorts":{"80/tcp":{}}},
         "rootfs":{"type":"layers","diff_ids":["sha256:7777777777777777777777777777777777777777777777777777777777777777","sha256:8888888888888888888888888888888888888888888888888888888888888888"]}}
        """;

    private static readonly IReadOnlyList<string> Documents = [Manifest, Index, Config];

    [Fact]
    public async Task ReadingRegistryDocuments_RandomAndMutated_GiveOnlyDomainErrors()
    {
        await FuzzRun.RunAsync(output, "manifests and indexes", maxCases: 6000, budget: TimeSpan.FromSeconds(8), random =>
        {
            var document = JsonMutator.Next(random, Documents);
            var contentType = ContentTypes[random.Next(ContentTypes.Length)];
            var platform = Platforms[random.Next(Platforms.Length)];
            ExpectOnlyDomainErrors(() => ReadManifestAsThePullDoes(document, contentType, platform));
            ExpectOnlyDomainErrors(() => ReadConfigAsThePullDoes(document));
        });
    }

    [Fact]
    public void ReadingRegistryDocuments_TheUnmutatedSeeds_Succeed()
    {
        Assert.Equal(MediaTypes.OciManifest, ManifestKind.Detect("application/json", Encoding.UTF8.GetBytes(Manifest), Reference.ToString()));
        Assert.Equal(MediaTypes.OciIndex, ManifestKind.Detect(null, Encoding.UTF8.GetBytes(Index), Reference.ToString()));
        ReadManifestAsThePullDoes(Encoding.UTF8.GetBytes(Manifest), MediaTypes.OciManifest, Platforms[0]);
        ReadManifestAsThePullDoes(Encoding.UTF8.GetBytes(Index), MediaTypes.OciIndex, Platforms[1]);
        ReadConfigAsThePullDoes(Encoding.UTF8.GetBytes(Config));
    }

    /// <summary>Found by the fuzzer: a JSON null among an index's manifests or a manifest's layers was met by a NullReferenceException.</summary>
    [Fact]
    public void ReadingAnIndex_WithANullEntry_SkipsItAndNamesWhatIsThere()
    {
        var index = """{"manifests":[null,{"digest":"sha256:4444444444444444444444444444444444444444444444444444444444444444","platform":{"os":"linux","architecture":"s390x"}}]}""";

        var error = Assert.Throws<NotFoundException>(() => ReadManifestAsThePullDoes(Encoding.UTF8.GetBytes(index), MediaTypes.OciIndex, Platforms[0]));

        Assert.Contains("linux/s390x", error.Message);
    }

    [Fact]
    public void ReadingAManifest_WithANullLayer_IsFailedPrecondition()
    {
        var manifest = Manifest.Replace("\"layers\":[", "\"layers\":[null,", StringComparison.Ordinal);

        var error = Assert.Throws<FailedPreconditionException>(() => ReadManifestAsThePullDoes(Encoding.UTF8.GetBytes(manifest), MediaTypes.OciManifest, Platforms[0]));

        Assert.Contains("null layer", error.Message);
    }

    private static void ExpectOnlyDomainErrors(Action read)
    {
        try
        {
            read();
        }
        catch (Exception exception) when (exception is FailedPreconditionException or NotFoundException or UnavailableException)
        {
            Assert.False(string.IsNullOrWhiteSpace(exception.Message));
        }
    }

    /// <summary>The steps of ImageService's pull that read a manifest document: its kind, then the index or the manifest.</summary>
    private static void ReadManifestAsThePullDoes(byte[] document, string? contentType, ImagePlatform platform)
    {
        var what = Reference.ToString();
        var kind = ManifestKind.Detect(contentType, document, what);
        if (MediaTypes.IsIndex(kind))
        {
            var index = ImageService.Deserialize(document, RegistryJsonContext.Default.OciIndex, $"index of {what}");
            var chosen = PlatformSelector.Select(index.Manifests ?? [], platform, what);
            ImageService.DescriptorDigest(chosen, $"index entry of {what}");
        }
        else
        {
            var manifest = ImageService.Deserialize(document, RegistryJsonContext.Default.OciManifest, $"manifest of {what}");
            ImageService.ReadManifest(manifest, Reference);
        }
    }

    /// <summary>A registry can serve anything as the config blob: every document is read as one too.</summary>
    private static void ReadConfigAsThePullDoes(byte[] document)
    {
        var config = ImageService.Deserialize(document, RegistryJsonContext.Default.OciImageConfig, $"config of {Reference}");
        ImageService.ReadDiffIds(config, config.RootFs?.DiffIds?.Count ?? 0, Reference);
        ImageConfigConverter.From(config);
    }
}
