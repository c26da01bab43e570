using CriOci.ImageStore.Unpack.Interop;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.TestSupport;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// Pulls the busybox test images from a real Debian docker-registry (tests/TestSupport builds
/// them with umoci and pushes them with skopeo) through the public factory.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class RealRegistryPullTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly TempDirectory root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task PullAsync_BusyboxOciAndSchema2_BothUnpackToRunnableRootfs()
    {
        // Arrange
        var service = ImageServiceFactory.Create(new ImageStoreOptions(root.Path, []));

        // Act
        var oci = await service.PullAsync(fixture.BusyboxLatest.Reference, null, CancellationToken.None);
        var schema2 = await service.PullAsync(fixture.BusyboxV2s2.Reference, null, CancellationToken.None);

        // Assert
        foreach (var (image, pushed) in new[] { (oci, fixture.BusyboxLatest), (schema2, fixture.BusyboxV2s2) })
        {
            Assert.Contains(pushed.Reference, image.RepoTags);
            // skopeo writes the same config for both formats, so both pulls are one image with two digests.
            Assert.Contains(pushed.DigestReference, image.RepoDigests);
            Assert.Equal(["sh"], image.Config.Cmd);
            Assert.Contains(TestImages.PathEnvironment, image.Config.Env);
            var layers = service.GetLayerDirectories(image);
            var busybox = Syscalls.Lstat(Path.Combine(layers[^1], "bin", "busybox"));
            Assert.True(busybox?.IsRegularFile);
            Assert.True(File.Exists(Path.Combine(layers[^1], "etc", "passwd")));
        }
        Assert.Equal(oci.ChainIds, schema2.ChainIds);
        Assert.NotNull(service.Find(fixture.BusyboxLatest.DigestReference));
    }

    [Fact]
    public async Task PullAsync_BusyboxLayered_TopLayerHasOverlayWhiteout()
    {
        // Arrange
        var service = ImageServiceFactory.Create(new ImageStoreOptions(root.Path, []));

        // Act
        var image = await service.PullAsync(fixture.BusyboxLayered.Reference, null, CancellationToken.None);

        // Assert
        var layers = service.GetLayerDirectories(image);
        Assert.Equal(2, layers.Count);
        var whiteout = Syscalls.Lstat(layers[0] + TestImages.LayeredRemovedPath);
        Assert.True(whiteout?.IsCharacterDevice);
        Assert.Equal((0u, 0u), (whiteout!.Value.DeviceMajor, whiteout.Value.DeviceMinor));
        Assert.Equal(TestImages.LayeredAddedFileContent, await File.ReadAllTextAsync(layers[0] + TestImages.LayeredAddedFilePath));
    }
}
