using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// The daemon as an operator starts and stops it: the socket's owner, group and mode, a bad
/// group stopping it at start, and SIGTERM (an upgrade) finishing the calls in flight and
/// leaving every container running for the next daemon.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class DaemonLifecycleTests(RegistryFixture registry)
{
    private const UnixFileMode Mode0660 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    [Theory]
    [InlineData(null, "0")]
    [InlineData("65534", "65534")]
    [InlineData("nogroup", "65534")]
    public async Task Socket_IsRootOwnedMode0660WithTheConfiguredGroup(string? group, string expectedGid)
    {
        await using var daemon = await DaemonProcess.StartAsync(extraArgs: group is null ? null : ["--socket-group", group]);

        var owner = await CommandRunner.RunAsync("stat", ["-c", "%u %g", daemon.SocketPath]);

        Assert.Equal(Mode0660, File.GetUnixFileMode(daemon.SocketPath));
        Assert.Equal($"0 {expectedGid}\n", owner.StandardOutput);
    }

    [Fact]
    public async Task Socket_UnknownGroup_StopsTheDaemonNamingIt()
    {
        var baseDirectory = Directory.CreateTempSubdirectory("crioci-e2e-group-").FullName;
        var logPath = Path.Combine(baseDirectory, "daemon.log");
        using var process = DaemonProcess.Launch(baseDirectory, logPath, ["--socket-group", "no-such-group-here"]);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("socketGroup: group no-such-group-here is not in /etc/group", await File.ReadAllTextAsync(logPath));
        Assert.False(File.Exists(Path.Combine(baseDirectory, "crioci.sock")));
    }

    [Fact]
    public async Task Config_PinnedEntryThatIsNoReference_StopsTheDaemonNamingTheKeyWithoutAStack()
    {
        var baseDirectory = Directory.CreateTempSubdirectory("crioci-e2e-pinned-").FullName;
        var configFile = Path.Combine(baseDirectory, "config.json");
        await File.WriteAllTextAsync(configFile, """{ "images": { "pinned": ["Not A Reference"] } }""");
        var logPath = Path.Combine(baseDirectory, "daemon.log");
        using var process = DaemonProcess.Launch(baseDirectory, logPath, ["--config", configFile]);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);

        var log = await File.ReadAllTextAsync(logPath);
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("images.pinned: \"Not A Reference\" is not an image reference or ID", log);
        Assert.DoesNotContain("   at ", log);
        Assert.False(File.Exists(Path.Combine(baseDirectory, "crioci.sock")));
    }

    [Fact]
    public async Task Sigterm_FinishesTheCallInFlightAndLeavesContainersRunning()
    {
        var daemon = await DaemonProcess.StartAsync();
        try
        {
            var image = registry.BusyboxLatest.Reference;
            await daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
            var podConfig = CriRequests.Pod("upgraded", Path.Combine(daemon.BaseDirectory, "logs"));
            var pod = await daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
            var created = await daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = pod.PodSandboxId,
                Config = CriRequests.Container("steady", image, "sleep", "3600"),
                SandboxConfig = podConfig,
            });
            await daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
            var before = (await daemon.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = created.ContainerId })).Status;

            var inFlight = daemon.Client.Runtime.ExecSyncAsync(new ExecSyncRequest
            {
                ContainerId = created.ContainerId,
                Cmd = { "sh", "-c", "sleep 2; echo finished" },
                Timeout = 20,
            }).ResponseAsync;
            await Task.Delay(500);
            var exitCode = await daemon.TerminateAsync(TimeSpan.FromSeconds(40));

            Assert.Equal(0, exitCode);
            Assert.Equal("finished\n", (await inFlight).Stdout.ToStringUtf8());
            Assert.False(File.Exists(daemon.SocketPath), "the socket outlived the daemon");
            Assert.NotEmpty(HostInspection.ProcessesMentioning(daemon.StateDirectory));

            await daemon.DisposeAsync();
            daemon = await DaemonProcess.StartAsync(daemon.BaseDirectory);
            var after = (await daemon.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = created.ContainerId })).Status;
            Assert.Equal(ContainerState.ContainerRunning, after.State);
            Assert.Equal(before.StartedAt, after.StartedAt);
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
    }

    [Fact]
    public async Task RootAndStateDirectories_HoldNothingWorldWritable()
    {
        await using var pod = await DaemonWithPod.StartAsync(registry, "perms");
        var id = await pod.StartContainerAsync("writer", null, "sh", "-c", "echo hello; sleep 3600");
        await pod.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "true" }, Timeout = 10 });
        var daemon = pod.Daemon;

        // Left out, on purpose: what images and containers hold (image layers and a container's
        // writable layer keep their own modes, /tmp 1777 among them) and other file systems
        // mounted below (-xdev; a pod's /dev/shm is a tmpfs of mode 1777 for its containers, as
        // containerd's is, and find still lists the mount point itself).
        var imageLayers = Path.Combine(daemon.RootDirectory, "images");
        var containerLayers = Path.Combine(daemon.RootDirectory, "containers", "*", "upper");
        var containerWork = Path.Combine(daemon.RootDirectory, "containers", "*", "work");
        var podShm = Path.Combine(daemon.StateDirectory, "pods", "*", "shm");
        var found = await CommandRunner.RunAsync("find", [daemon.RootDirectory, daemon.StateDirectory, "-xdev",
            "(", "-path", imageLayers, "-o", "-path", containerLayers, "-o", "-path", containerWork, "-o", "-path", podShm, ")", "-prune",
            "-o", "-perm", "-o+w", "!", "-type", "l", "-print"]);

        Assert.True(found.StandardOutput.Length == 0, $"world-writable under the daemon's directories:\n{found.StandardOutput}");
        // The check can see: a file the test makes world-writable is reported.
        var probe = Path.Combine(daemon.StateDirectory, "probe");
        await File.WriteAllTextAsync(probe, "");
        File.SetUnixFileMode(probe, UnixFileMode.UserRead | UnixFileMode.OtherWrite);
        var control = await CommandRunner.RunAsync("find", [daemon.StateDirectory, "-xdev", "-perm", "-o+w", "!", "-type", "l", "-print"]);
        File.Delete(probe);
        Assert.Contains(probe, control.StandardOutput);
    }
}
