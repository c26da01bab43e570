using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// `crioci images export|import` against the real daemon's store: an air-gapped node is loaded
/// from an OCI image layout. The export validates with Debian's oci-image-tool; an image
/// exported, removed and imported again runs a container; with the daemon running the
/// command refuses and leaves the store alone.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ImagesCommandTests(RegistryFixture registry) : IAsyncLifetime
{
    private const string OciImageToolPath = "/usr/bin/oci-image-tool";

    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() => _daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    [Fact]
    public async Task ExportRemoveImport_Busybox_LayoutValidatesAndContainerRunsFromImportedImage()
    {
        // Arrange: the image in the store, then the daemon gone (SIGKILL; the store is consistent on disk).
        var image = registry.BusyboxLayered.Reference;
        var pulled = await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var running = await Crioci("images", "import", "--root", _daemon.RootDirectory, Path.Combine(_daemon.BaseDirectory, "none.tar"));
        await _daemon.DisposeAsync();
        var directoryLayout = Path.Combine(_daemon.BaseDirectory, "layout");
        var archiveLayout = Path.Combine(_daemon.BaseDirectory, "layout.tar");

        // Act: export twice (directory and .tar), remove the image, import the .tar
        var toDirectory = await Crioci("images", "export", "--root", _daemon.RootDirectory, image, directoryLayout);
        var toArchive = await Crioci("images", "export", "--root", _daemon.RootDirectory, pulled.ImageRef, archiveLayout);
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);
        await _daemon.Client.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = image } });
        var removed = await _daemon.Client.Images.ListImagesAsync(new ListImagesRequest());
        await _daemon.DisposeAsync();
        var imported = await Crioci("images", "import", "--root", _daemon.RootDirectory, archiveLayout);
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory);

        // Assert: the refusal while the daemon ran, the exports, the layout, the import
        Assert.Equal(1, running.ExitCode);
        Assert.Contains($"a crioci daemon is running with root {_daemon.RootDirectory}", running.StandardError, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0), (toDirectory.ExitCode, toArchive.ExitCode, imported.ExitCode));
        Assert.Empty(removed.Images);
        // The directory is validated; Debian's oci-image-tool (1.0.0-rc1) cannot walk any layout
        // tar, not even GNU tar's of a layout it validates ("find failed: unable to walk: end of
        // walk"), so the archive is proven by importing it below.
        var validation = await CommandRunner.RunUncheckedAsync(
            TestDependencies.RequireFile(OciImageToolPath, "oci-image-tool"), ["validate", "--type", "image", "--ref", $"name={TestImages.LayeredTag}", directoryLayout]);
        Assert.True(validation.ExitCode == 0, $"oci-image-tool validate {directoryLayout}: {validation.StandardOutput}{validation.StandardError}");
        Assert.Contains(pulled.ImageRef, imported.StandardOutput, StringComparison.Ordinal);
        var status = await _daemon.Client.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = image } });
        Assert.Equal(pulled.ImageRef, status.Image?.Id);
        Assert.Contains(image, status.Image!.RepoTags);

        // Assert: a container runs from the imported image, with the top layer's whiteout applied
        var podConfig = CriRequests.Pod("imported", Path.Combine(_daemon.BaseDirectory, "logs"));
        var pod = await _daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
        var created = await _daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("from-layout", image, "sleep", "60"),
            SandboxConfig = podConfig,
        });
        await _daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        var exec = await _daemon.Client.Runtime.ExecSyncAsync(new ExecSyncRequest
        {
            ContainerId = created.ContainerId,
            Cmd = { "sh", "-c", $"cat {TestImages.LayeredAddedFilePath}; test -e {TestImages.LayeredRemovedPath} && echo present || echo absent" },
            Timeout = 10,
        });
        Assert.Equal(TestImages.LayeredAddedFileContent + "absent\n", exec.Stdout.ToStringUtf8());
        await _daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
    }

    private Task<CommandResult> Crioci(params string[] args) => CommandRunner.RunUncheckedAsync(
        RepositoryPaths.Daemon,
        [.. args, "--state", _daemon.StateDirectory, "--socket", _daemon.SocketPath]);
}
