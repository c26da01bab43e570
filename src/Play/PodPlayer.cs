using CriOci.Cri.V1;
using Grpc.Core;
using k8s.Models;

namespace CriOci.Play;

/// <summary>
/// What kubelet does for one pod, reduced to a single pass: pull, sandbox, init containers in
/// order (each must exit 0 before the next), then the app containers. Pods are found again by
/// the same labels kubelet sets (io.kubernetes.pod.name/namespace), so --down needs only the manifest.
/// </summary>
public sealed class PodPlayer(RuntimeService.RuntimeServiceClient runtime, ImageService.ImageServiceClient images, TextWriter output)
{
    public const string PodNameLabel = "io.kubernetes.pod.name";
    public const string PodNamespaceLabel = "io.kubernetes.pod.namespace";
    public const string PodUidLabel = "io.kubernetes.pod.uid";
    public const string ContainerNameLabel = "io.kubernetes.container.name";

    /// <summary>Where pod logs go (kubelet: /var/log/pods/&lt;namespace&gt;_&lt;name&gt;_&lt;uid&gt;).</summary>
    public string PodLogRoot { get; init; } = "/var/log/pods";

    /// <summary>How long one init container may run before play gives up.</summary>
    public TimeSpan InitContainerTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Runs the pod; returns its sandbox ID. Fails if a pod of that name and namespace is already there.</summary>
    public async Task<string> UpAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var (name, ns) = NameOf(pod);
        if ((await FindAsync(pod, cancellationToken)).Count > 0)
        {
            throw new PlayException($"pod {ns}/{name} already exists on this node; remove it with crioci play --down");
        }
        var uid = string.IsNullOrEmpty(pod.Metadata.Uid) ? Guid.NewGuid().ToString() : pod.Metadata.Uid;
        var sandboxConfig = PodSpecMapping.SandboxConfig(pod, uid, Path.Combine(PodLogRoot, $"{ns}_{name}_{uid}"));

        foreach (var image in (pod.Spec.InitContainers ?? []).Concat(pod.Spec.Containers).Select(c => c.Image).Distinct())
        {
            await PullAsync(image, pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []).First(c => c.Image == image).ImagePullPolicy, cancellationToken);
        }

        var podId = (await runtime.RunPodSandboxAsync(new RunPodSandboxRequest
        {
            Config = sandboxConfig,
            RuntimeHandler = pod.Spec.RuntimeClassName ?? "",
        }, cancellationToken: cancellationToken)).PodSandboxId;
        await output.WriteLineAsync($"pod {ns}/{name}: sandbox {podId}");
        try
        {
            foreach (var init in pod.Spec.InitContainers ?? [])
            {
                var id = await CreateAndStartAsync(podId, sandboxConfig, pod, init, cancellationToken);
                var status = await WaitForExitAsync(id, cancellationToken);
                if (status.ExitCode != 0)
                {
                    throw new PlayException($"init container {init.Name} exited with {status.ExitCode} ({status.Reason}); its log is {status.LogPath}");
                }
                await output.WriteLineAsync($"init container {init.Name}: completed");
            }
            foreach (var container in pod.Spec.Containers)
            {
                await CreateAndStartAsync(podId, sandboxConfig, pod, container, cancellationToken);
                await output.WriteLineAsync($"container {container.Name}: running");
            }
        }
        catch
        {
            // Leave nothing half-started: the user fixes the manifest and plays again.
            using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, cancellationToken: cleanup.Token);
            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, cancellationToken: cleanup.Token);
            throw;
        }
        return podId;
    }

    /// <summary>Stops and removes every sandbox of the manifest's pod; returns how many. Idempotent.</summary>
    public async Task<int> DownAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var (name, ns) = NameOf(pod);
        var sandboxes = await FindAsync(pod, cancellationToken);
        foreach (var sandbox in sandboxes)
        {
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken: cancellationToken);
            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = sandbox.Id }, cancellationToken: cancellationToken);
            await output.WriteLineAsync($"pod {ns}/{name}: removed sandbox {sandbox.Id}");
        }
        if (sandboxes.Count == 0)
        {
            await output.WriteLineAsync($"pod {ns}/{name}: not on this node");
        }
        return sandboxes.Count;
    }

    private async Task<IReadOnlyList<Cri.V1.PodSandbox>> FindAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var (name, ns) = NameOf(pod);
        var filter = new PodSandboxFilter { LabelSelector = { [PodNameLabel] = name, [PodNamespaceLabel] = ns } };
        return (await runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = filter }, cancellationToken: cancellationToken)).Items;
    }

    private async Task PullAsync(string image, string? pullPolicy, CancellationToken cancellationToken)
    {
        var spec = new ImageSpec { Image = image };
        if (pullPolicy != "Always")
        {
            var status = await images.ImageStatusAsync(new ImageStatusRequest { Image = spec }, cancellationToken: cancellationToken);
            if (status.Image is not null)
            {
                return;
            }
            if (pullPolicy == "Never")
            {
                throw new PlayException($"image {image} is not on this node and imagePullPolicy is Never");
            }
        }
        var pulled = await images.PullImageAsync(new PullImageRequest { Image = spec }, cancellationToken: cancellationToken);
        await output.WriteLineAsync($"image {image}: pulled {pulled.ImageRef}");
    }

    private async Task<string> CreateAndStartAsync(string podId, PodSandboxConfig sandboxConfig, V1Pod pod, V1Container container, CancellationToken cancellationToken)
    {
        var created = await runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = podId,
            Config = PodSpecMapping.ContainerConfig(pod, container),
            SandboxConfig = sandboxConfig,
        }, cancellationToken: cancellationToken);
        await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId }, cancellationToken: cancellationToken);
        return created.ContainerId;
    }

    private async Task<ContainerStatus> WaitForExitAsync(string containerId, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + InitContainerTimeout;
        while (true)
        {
            var status = (await runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId }, cancellationToken: cancellationToken)).Status;
            if (status.State == ContainerState.ContainerExited)
            {
                return status;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new PlayException($"init container {status.Metadata?.Name} still running after {InitContainerTimeout.TotalSeconds:F0} s");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private static (string Name, string Namespace) NameOf(V1Pod pod) =>
        (pod.Metadata.Name, string.IsNullOrEmpty(pod.Metadata.NamespaceProperty) ? "default" : pod.Metadata.NamespaceProperty);
}
