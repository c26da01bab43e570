using System.Globalization;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Infra;
using CriOci.PodSandbox.Namespaces;

namespace CriOci.PodSandbox;

/// <summary>
/// The pod's shared PID namespace (pid mode POD): its PID 1 is a reaper started with the pod,
/// and containers join it by /proc/PID/ns/pid. TARGET joins another container's instead.
/// </summary>
internal sealed partial class SandboxManager
{
    /// <summary>
    /// Without namespace options a pod keeps one PID namespace per container, as before; kubelet
    /// always sends them, with POD only for shareProcessNamespace pods.
    /// </summary>
    private static NamespaceMode PodPidMode(PodSandboxConfig config) =>
        config.Linux?.SecurityContext?.NamespaceOptions?.Pid ?? NamespaceMode.Container;

    /// <summary>
    /// The reaper's PID also goes to the pod's state directory at once: a daemon killed before
    /// the pod's record is complete leaves no record, and the clean-up finds it there.
    /// </summary>
    private string InfraFile(string id) => Path.Combine(SandboxStateDirectory(id), "infra");

    private async Task<PodInfraProcess?> StartPodInfraAsync(string id, PodSandboxConfig config, PinnedNamespaces pins, Rollback rollback)
    {
        if (PodPidMode(config) != NamespaceMode.Pod)
        {
            return null;
        }
        var infra = await _infra.StartAsync(new PodInfraNamespaces(pins.Network, pins.Ipc, pins.Uts, SandboxStateDirectory(id), pins.User), CancellationToken.None).ConfigureAwait(false);
        rollback.Push("stop pod infra process", () => _infra.StopAsync(infra));
        AtomicFile.WriteAllText(InfraFile(id), string.Create(CultureInfo.InvariantCulture, $"{infra.Pid} {infra.StartTime}"));
        return infra;
    }

    /// <summary>Stops the pod's reaper, known from its record or its state file. Idempotent.</summary>
    private async Task StopPodInfraAsync(string id, PodInfraProcess? recorded)
    {
        if (recorded is not null)
        {
            await _infra.StopAsync(recorded).ConfigureAwait(false);
        }
        if (ReadInfraFile(InfraFile(id)) is { } written && written != recorded)
        {
            await _infra.StopAsync(written).ConfigureAwait(false);
        }
    }

    private static PodInfraProcess? ReadInfraFile(string path)
    {
        string[] fields;
        try
        {
            fields = File.ReadAllText(path).Split(' ', StringSplitOptions.TrimEntries);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        return fields.Length == 2
            && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
            ? new PodInfraProcess(pid, startTime)
            : null;
    }

    /// <summary>
    /// The PID namespace a new container joins (null: its own or the host's). POD needs the
    /// pod's reaper alive; TARGET a running container of the same pod (kubectl debug --target).
    /// </summary>
    private string? PidNamespaceToJoin(string podId, SandboxEntry sandbox, ContainerConfig config)
    {
        var options = config.Linux?.SecurityContext?.NamespaceOptions;
        switch (options?.Pid)
        {
            case NamespaceMode.Pod:
                if (sandbox.Record.Infra is not { } infra)
                {
                    throw new FailedPreconditionException(
                        $"namespace_options.pid is POD but pod sandbox {podId} was created without a shared PID namespace");
                }
                return infra.IsAlive
                    ? infra.PidNamespacePath
                    : throw new FailedPreconditionException($"pod sandbox {podId}: the infra process of its shared PID namespace ({infra.Pid}) is gone");
            case NamespaceMode.Target:
                return TargetPidNamespace(podId, options.TargetId);
            default:
                return null;
        }
    }

    private string TargetPidNamespace(string podId, string targetId)
    {
        if (string.IsNullOrEmpty(targetId))
        {
            throw new InvalidArgumentException("namespace_options.target_id is required when namespace_options.pid is TARGET");
        }
        var id = Resolve(_containers, targetId);
        if (id is null || !_containers.TryGetValue(id, out var target) || target.Record.PodSandboxId != podId)
        {
            throw new NotFoundException($"namespace_options.target_id: container {targetId} not found in pod sandbox {podId}");
        }
        var state = _runtime.GetState(id);
        if (state is not { Status: OciRuntime.State.ContainerStatus.Running, Pid: > 0 })
        {
            throw new FailedPreconditionException($"namespace_options.target_id: container {targetId} is not running");
        }
        return $"/proc/{state.Pid}/ns/pid";
    }
}
