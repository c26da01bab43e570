using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public PodSandboxStatusResponse PodSandboxStatus(string podSandboxId, bool verbose)
    {
        var id = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        if (!_sandboxes.TryGetValue(id, out var sandbox))
        {
            throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        }
        var record = sandbox.Record;
        var config = sandbox.Config;
        var status = new PodSandboxStatus
        {
            Id = id,
            Metadata = config.Metadata,
            State = StateOf(record),
            CreatedAt = record.CreatedAt.ToUnixTimeNanoseconds(),
            Network = NetworkStatus(record.PodIps),
            Linux = new LinuxPodSandboxStatus
            {
                Namespaces = new Namespace { Options = config.Linux?.SecurityContext?.NamespaceOptions ?? new NamespaceOption() },
            },
            RuntimeHandler = record.RuntimeHandler,
        };
        status.Labels.Add(config.Labels);
        status.Annotations.Add(config.Annotations);
        var response = new PodSandboxStatusResponse { Status = status };
        if (verbose)
        {
            response.Info["info"] = $$"""{"id":"{{id}}","netns":"{{record.NetworkNamespace}}","runtimeHandler":"{{record.RuntimeHandler}}"}""";
        }
        return response;
    }

    /// <summary>
    /// Ready until stopped, unless the pod shares a PID namespace whose PID 1 (the infra reaper)
    /// has died: no container can join that namespace any more, so the pod is reported NotReady
    /// and kubelet recreates it, as it does when containerd's pause container dies.
    /// </summary>
    private static PodSandboxState StateOf(Storage.SandboxRecord record) =>
        record.Ready && record.Infra is not { IsAlive: false } ? PodSandboxState.SandboxReady : PodSandboxState.SandboxNotready;

    /// <summary>api.proto: "ip" is the primary address (IPv4 first, as kubelet prefers), the rest are additional_ips.</summary>
    private static PodSandboxNetworkStatus NetworkStatus(IReadOnlyList<string>? podIps)
    {
        var network = new PodSandboxNetworkStatus();
        if (podIps is { Count: > 0 })
        {
            network.Ip = podIps[0];
            network.AdditionalIps.Add(podIps.Skip(1).Select(ip => new PodIP { Ip = ip }));
        }
        return network;
    }

    public IReadOnlyList<Cri.V1.PodSandbox> ListPodSandbox(PodSandboxFilter? filter)
    {
        var result = new List<Cri.V1.PodSandbox>();
        foreach (var (id, sandbox) in _sandboxes)
        {
            var state = StateOf(sandbox.Record);
            if (filter is not null)
            {
                if (filter.Id.Length > 0 && !id.StartsWith(filter.Id, StringComparison.Ordinal))
                {
                    continue;
                }
                if (filter.State is not null && filter.State.State != state)
                {
                    continue;
                }
                if (!LabelsMatch(sandbox.Config.Labels, filter.LabelSelector))
                {
                    continue;
                }
            }
            var item = new Cri.V1.PodSandbox
            {
                Id = id,
                Metadata = sandbox.Config.Metadata,
                State = state,
                CreatedAt = sandbox.Record.CreatedAt.ToUnixTimeNanoseconds(),
                RuntimeHandler = sandbox.Record.RuntimeHandler,
            };
            item.Labels.Add(sandbox.Config.Labels);
            item.Annotations.Add(sandbox.Config.Annotations);
            result.Add(item);
        }
        return result;
    }

    private static bool LabelsMatch(IDictionary<string, string> labels, IDictionary<string, string> selector) =>
        selector.All(pair => labels.TryGetValue(pair.Key, out var value) && value == pair.Value);
}
