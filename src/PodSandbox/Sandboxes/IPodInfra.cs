using CriOci.OciRuntime.Infra;

namespace CriOci.PodSandbox.Sandboxes;

/// <summary>The reaper that is PID 1 of a pod's shared PID namespace (faked in unit tests: it is a real process).</summary>
public interface IPodInfra
{
    Task<PodInfraProcess> StartAsync(PodInfraNamespaces namespaces, CancellationToken cancellationToken);

    /// <summary>Kills it and waits until it is gone. Idempotent; a reused PID is left alone.</summary>
    Task StopAsync(PodInfraProcess infra);
}

internal sealed class PodInfraLauncher(string runtimeExecutable) : IPodInfra
{
    public Task<PodInfraProcess> StartAsync(PodInfraNamespaces namespaces, CancellationToken cancellationToken) =>
        PodInfra.StartAsync(runtimeExecutable, namespaces, cancellationToken);

    public Task StopAsync(PodInfraProcess infra) => PodInfra.StopAsync(infra);
}
