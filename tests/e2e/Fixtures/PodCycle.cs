using CriOci.Cri.V1;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// One pod's life as kubelet drives it: RunPodSandbox, CreateContainer, StartContainer, ExecSync,
/// StopPodSandbox, RemovePodSandbox. Every call has a deadline, so a hang fails the test instead
/// of stalling it.
/// </summary>
public static class PodCycle
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <param name="whileRunning">Called once the container runs and has been exec'd into, before the pod is stopped.</param>
    /// <param name="configure">Changes the pod's config before RunPodSandbox (a kubelet-style cgroup parent, say).</param>
    public static async Task RunAsync(IsolatedDaemon node, string image, string podName, Action? whileRunning = null, Action<PodSandboxConfig>? configure = null)
    {
        var runtime = node.Daemon.Client.Runtime;
        var podConfig = node.Pod(podName);
        configure?.Invoke(podConfig);
        var pod = (await runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig }, deadline: Deadline())).PodSandboxId;
        var container = (await runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod,
            Config = CriRequests.Container("app", image, "sleep", "3600"),
            SandboxConfig = podConfig,
        }, deadline: Deadline())).ContainerId;
        await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container }, deadline: Deadline());
        var exec = await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = container, Cmd = { "true" }, Timeout = 30 }, deadline: Deadline());
        Assert.True(exec.ExitCode == 0, $"exec true in {podName} exited {exec.ExitCode}: {exec.Stderr.ToStringUtf8()}");
        whileRunning?.Invoke();
        await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod }, deadline: Deadline());
        await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod }, deadline: Deadline());
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;
}
