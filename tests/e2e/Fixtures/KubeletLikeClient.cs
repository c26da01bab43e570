using System.Collections.Concurrent;
using CriOci.Cri.V1;
using Grpc.Core;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// A CRI client that treats a runtime which went away the way kubelet does: a call that failed
/// because the daemon was down is tried again once it is back, and a create that failed may or
/// may not have happened, so the client lists first and creates again only when the object is
/// not there. Only transport failures (the socket refused or closed under the call) are retried;
/// an error the daemon itself answered fails the caller, so it can never hide a daemon bug.
/// </summary>
public sealed class KubeletLikeClient(string socketPath, ConcurrentQueue<string> retryLog) : IDisposable
{
    /// <summary>How long one call, and all retries of one operation, may take before the test calls it a hang.</summary>
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(90);

    private readonly CriClient _client = new(socketPath);

    private RuntimeService.RuntimeServiceClient Runtime => _client.Runtime;

    /// <summary>RunPodSandbox; after a lost answer the pod is looked up by its metadata (kubelet's "attempt" bookkeeping).</summary>
    public Task<string> EnsurePodAsync(PodSandboxConfig config) => RetryAsync($"RunPodSandbox {config.Metadata.Name}", async deadline =>
    {
        var existing = (await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: deadline)).Items
            .Where(p => p.Metadata.Uid == config.Metadata.Uid && p.Metadata.Attempt == config.Metadata.Attempt).ToList();
        return existing.Count switch
        {
            0 => (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config }, deadline: deadline)).PodSandboxId,
            1 => existing[0].Id,
            _ => throw new InvalidOperationException($"{existing.Count} pods for {config.Metadata.Name}: {string.Join(", ", existing.Select(p => p.Id))}"),
        };
    });

    /// <summary>CreateContainer; after a lost answer the container is looked up in its pod by name.</summary>
    public Task<string> EnsureContainerAsync(string podId, ContainerConfig config, PodSandboxConfig podConfig) => RetryAsync($"CreateContainer {podConfig.Metadata.Name}/{config.Metadata.Name}", async deadline =>
    {
        var existing = (await Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = podId } }, deadline: deadline)).Containers
            .Where(c => c.Metadata.Name == config.Metadata.Name && c.Metadata.Attempt == config.Metadata.Attempt).ToList();
        return existing.Count switch
        {
            0 => (await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = podConfig }, deadline: deadline)).ContainerId,
            1 => existing[0].Id,
            _ => throw new InvalidOperationException($"{existing.Count} containers named {config.Metadata.Name} in pod {podId}"),
        };
    });

    /// <summary>StartContainer unless a lost answer's start did happen (the container is no longer in the created state).</summary>
    public Task EnsureStartedAsync(string containerId) => RetryAsync($"StartContainer {containerId[..12]}", async deadline =>
    {
        var status = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId }, deadline: deadline)).Status;
        if (status.State == ContainerState.ContainerCreated)
        {
            await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = containerId }, deadline: deadline);
        }
        return true;
    });

    public Task<ContainerStatusResponse> StatusAsync(string containerId) => RetryAsync($"ContainerStatus {containerId[..12]}",
        async deadline => await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = containerId, Verbose = true }, deadline: deadline));

    public Task<ExecSyncResponse> ExecAsync(string containerId, params string[] command) => RetryAsync($"ExecSync {containerId[..12]}",
        async deadline => await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { command }, Timeout = 30 }, deadline: deadline));

    /// <summary>StopPodSandbox then RemovePodSandbox, both idempotent, so simply repeated.</summary>
    public Task RemovePodAsync(string podId) => RetryAsync($"RemovePodSandbox {podId[..12]}", async deadline =>
    {
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId }, deadline: deadline);
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, deadline: deadline);
        return true;
    });

    public Task<IReadOnlyList<CriOci.Cri.V1.PodSandbox>> ListPodsAsync() => RetryAsync<IReadOnlyList<CriOci.Cri.V1.PodSandbox>>("ListPodSandbox",
        async deadline => (await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: deadline)).Items.ToList());

    public Task<IReadOnlyList<Container>> ListContainersAsync() => RetryAsync<IReadOnlyList<Container>>("ListContainers",
        async deadline => (await Runtime.ListContainersAsync(new ListContainersRequest(), deadline: deadline)).Containers.ToList());

    private async Task<T> RetryAsync<T>(string operation, Func<DateTime, Task<T>> attempt)
    {
        var deadline = DateTime.UtcNow + OperationTimeout;
        while (true)
        {
            try
            {
                return await attempt(deadline);
            }
            catch (RpcException exception) when (IsDaemonGone(exception) && DateTime.UtcNow < deadline)
            {
                retryLog.Enqueue($"{operation}: {exception.StatusCode} ({exception.Status.DebugException?.GetType().Name}: {exception.Status.DebugException?.Message})");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// The socket refused the connection or closed under the call: Grpc.Net.Client reports both
    /// as Unavailable with the transport's exception attached. A status the daemon sent has none.
    /// </summary>
    private static bool IsDaemonGone(RpcException exception) =>
        exception.StatusCode == StatusCode.Unavailable && exception.Status.DebugException is not null;

    public void Dispose() => _client.Dispose();
}
