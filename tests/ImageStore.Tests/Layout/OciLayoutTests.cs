using System.Text.Json.Nodes;
using CriOci.Core;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.TestSupport;

namespace CriOci.ImageStore.Tests.Layout;

/// <summary>
/// OCI image layout export and import: a round trip through a layout keeps the image, the
/// exported layout passes Debian's oci-image-tool validate, and the umoci-built test layout
/// imports as the same images the registry serves.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class OciLayoutTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>, IDisposable
{
    private const string OciImageToolPath = "/usr/bin/oci-image-tool";

    private readonly TempDirectory work = new();

    public void Dispose() => work.Dispose();

    [Fact]
    public async Task ExportLayoutAsync_ThenImportElsewhere_SameImageAndValidLayout()
    {
        // Arrange
        var source = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("source"), []));
        var pulled = await source.PullAsync(fixture.BusyboxLayered.Reference, null, CancellationToken.None);
        var layout = work.Combine("layout");

        // Act
        await source.ExportLayoutAsync(fixture.BusyboxLayered.Reference, layout, CancellationToken.None);
        var target = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("target"), []));
        var imported = Assert.Single(await target.ImportLayoutAsync(layout, null, CancellationToken.None));

        // Assert
        var validation = await CommandRunner.RunUncheckedAsync(
            TestDependencies.RequireFile(OciImageToolPath, "oci-image-tool"), ["validate", "--type", "image", "--ref", $"name={TestImages.LayeredTag}", layout]);
        Assert.True(validation.Succeeded, validation.StandardOutput + validation.StandardError);
        Assert.Equal(pulled.Id, imported.Id);
        Assert.Equal(pulled.ChainIds, imported.ChainIds);
        Assert.Equal(pulled.RepoTags, imported.RepoTags);
        Assert.Equal(pulled.ManifestDigest, imported.ManifestDigest);
        Assert.Equal(pulled.Config.Cmd, imported.Config.Cmd);
        Assert.Equal(pulled.Config.Env, imported.Config.Env);
        Assert.Equal((pulled.Config.Os, pulled.Config.Architecture), (imported.Config.Os, imported.Config.Architecture));
        var index = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json")))!;
        var annotations = index["manifests"]![0]!["annotations"]!;
        Assert.Equal(TestImages.LayeredTag, annotations["org.opencontainers.image.ref.name"]!.GetValue<string>());
        Assert.Equal(fixture.BusyboxLayered.Reference, annotations["io.containerd.image.name"]!.GetValue<string>());
        var layers = target.GetLayerDirectories(imported);
        Assert.Equal(TestImages.LayeredAddedFileContent, await File.ReadAllTextAsync(layers[0] + TestImages.LayeredAddedFilePath));
    }

    [Fact]
    public async Task ExportLayoutAsync_TwoImagesIntoOneLayout_BothEntriesAndStillValid()
    {
        // Arrange
        var source = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("source"), []));
        await source.PullAsync(fixture.BusyboxLatest.Reference, null, CancellationToken.None);
        await source.PullAsync(fixture.BusyboxLayered.Reference, null, CancellationToken.None);
        var layout = work.Combine("layout");

        // Act
        await source.ExportLayoutAsync(fixture.BusyboxLatest.Reference, layout, CancellationToken.None);
        await source.ExportLayoutAsync(fixture.BusyboxLayered.Reference, layout, CancellationToken.None);
        await source.ExportLayoutAsync(fixture.BusyboxLayered.Reference, layout, CancellationToken.None);

        // Assert
        var validation = await CommandRunner.RunUncheckedAsync(TestDependencies.RequireFile(OciImageToolPath, "oci-image-tool"), ["validate", "--type", "image", layout]);
        Assert.True(validation.Succeeded, validation.StandardOutput + validation.StandardError);
        var imported = await ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("target"), []))
            .ImportLayoutAsync(layout, null, CancellationToken.None);
        Assert.Equal([fixture.BusyboxLatest.Reference, fixture.BusyboxLayered.Reference], imported.Select(i => i.RepoTags.Single()));
    }

    [Fact]
    public async Task ImportLayoutAsync_UmociLayoutWithBaseName_SameImagesAsRegistryServes()
    {
        // Arrange
        var layout = await TestImages.EnsureLayoutAsync();
        var fromRegistry = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("registry"), []));
        var latest = await fromRegistry.PullAsync(fixture.BusyboxLatest.Reference, null, CancellationToken.None);
        var layered = await fromRegistry.PullAsync(fixture.BusyboxLayered.Reference, null, CancellationToken.None);
        var service = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("import"), []));

        // Act
        var imported = await service.ImportLayoutAsync(layout, "example.local/busybox", CancellationToken.None);

        // Assert
        Assert.Equal(["example.local/busybox:latest", "example.local/busybox:layered"], imported.Select(i => i.RepoTags.Single()));
        Assert.Equal([latest.Id, layered.Id], imported.Select(i => i.Id));
        Assert.Equal(layered.ChainIds, imported[1].ChainIds);
        Assert.NotNull(service.Find("example.local/busybox:layered"));
    }

    [Fact]
    public async Task ImportLayoutAsync_TagOnlyNamesWithoutBaseName_RefusedNamingTheFix()
    {
        // Arrange
        var layout = await TestImages.EnsureLayoutAsync();
        var service = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("import"), []));

        // Act
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => service.ImportLayoutAsync(layout, null, CancellationToken.None));

        // Assert
        Assert.Contains("is named only by the tag \"latest\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("base name", error.Message, StringComparison.Ordinal);
        Assert.Empty(service.List());
    }

    [Fact]
    public async Task ImportLayoutAsync_TamperedLayerBlob_FailsAndRecordsNothing()
    {
        // Arrange
        var source = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("source"), []));
        var pulled = await source.PullAsync(fixture.BusyboxLatest.Reference, null, CancellationToken.None);
        var layout = work.Combine("layout");
        await source.ExportLayoutAsync(pulled.Id, layout, CancellationToken.None);
        var layerBlob = Directory.EnumerateFiles(Path.Combine(layout, "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = await File.ReadAllBytesAsync(layerBlob);
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(layerBlob, bytes);
        var target = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("target"), []));

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() => target.ImportLayoutAsync(layout, null, CancellationToken.None));

        // Assert
        Assert.Contains(Path.GetFileName(layerBlob), error.Message, StringComparison.Ordinal);
        Assert.Empty(target.List());
    }

    [Fact]
    public async Task ImportLayoutAsync_NotALayout_InvalidArgument()
    {
        // Arrange
        var service = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("import"), []));
        Directory.CreateDirectory(work.Combine("empty"));

        // Act + Assert
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => service.ImportLayoutAsync(work.Combine("empty"), null, CancellationToken.None));
        Assert.Contains("has no oci-layout file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportLayoutAsync_UnknownImage_NotFound()
    {
        // Arrange
        var service = ImageServiceFactory.Create(new ImageStoreOptions(work.Combine("source"), []));

        // Act + Assert
        await Assert.ThrowsAsync<NotFoundException>(() => service.ExportLayoutAsync("example.local/absent:1", work.Combine("layout"), CancellationToken.None));
    }
}
