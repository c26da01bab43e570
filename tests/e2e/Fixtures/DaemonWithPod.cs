using CriOci.Cri.V1;
using CriOci.TestSupport;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// A fresh daemon with busybox pulled and one ready pod: the starting point of tests that
/// check containers from the inside. Removes the pod (and with it every container) at the end.
/// </summary>
public sealed class DaemonWithPod : IAsyncDisposable
{
    private DaemonWithPod(DaemonProcess daemon, RegistryFixture registry, PodSandboxConfig podConfig, string podId)
    {
        Daemon = daemon;
        Registry = registry;
        PodConfig = podConfig;
        PodId = podId;
    }

    public DaemonProcess Daemon { get; }
    public RegistryFixture Registry { get; }
    public PodSandboxConfig PodConfig { get; }
    public string PodId { get; }
    public RuntimeService.RuntimeServiceClient Runtime => Daemon.Client.Runtime;
    public string LogDirectory => PodConfig.LogDirectory;

    public static async Task<DaemonWithPod> StartAsync(RegistryFixture registry, string podName)
    {
        var daemon = await DaemonProcess.StartAsync();
        await daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
        var podConfig = CriRequests.Pod(podName, Path.Combine(daemon.BaseDirectory, "logs"));
        var podId = (await daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig })).PodSandboxId;
        return new DaemonWithPod(daemon, registry, podConfig, podId);
    }

    /// <summary>Creates and starts a busybox container; <paramref name="configure"/> may change its config first.</summary>
    public async Task<string> StartContainerAsync(string name, Action<ContainerConfig>? configure, params string[] command)
    {
        var config = CriRequests.Container(name, Registry.BusyboxLatest.Reference, command.Length > 0 ? command : ["sleep", "3600"]);
        configure?.Invoke(config);
        var created = await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = PodId, Config = config, SandboxConfig = PodConfig });
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
        return created.ContainerId;
    }

    public async Task<ContainerStatus> WaitForExitAsync(string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var status = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;
            if (status.State == ContainerState.ContainerExited || DateTime.UtcNow > deadline)
            {
                return status;
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = PodId });
        await Daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(Daemon.BaseDirectory);
    }
}
