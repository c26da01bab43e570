using CriOci.OciRuntime.Infra;
using CriOci.OciRuntime.Linux;
using CriOci.PodSandbox.Sandboxes;

namespace CriOci.PodSandbox.Tests.Fakes;

/// <summary>
/// Starts nothing: the "infra process" is the test process itself (alive, with its real start
/// time, so the manager's liveness checks pass); records "StartInfra net ipc uts" / "StopInfra PID".
/// </summary>
internal sealed class FakePodInfra(CallLog log) : IPodInfra
{
    public static PodInfraProcess Self { get; } = new(Environment.ProcessId, ProcStat.StartTime(Environment.ProcessId) ?? 0);

    public Task<PodInfraProcess> StartAsync(PodInfraNamespaces namespaces, CancellationToken cancellationToken)
    {
        log.Add($"StartInfra {namespaces.Network} {namespaces.Ipc} {namespaces.Uts}");
        return Task.FromResult(Self);
    }

    public Task StopAsync(PodInfraProcess infra)
    {
        log.Add($"StopInfra {infra.Pid}");
        return Task.CompletedTask;
    }
}
