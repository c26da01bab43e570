using CriOci.Cri.V1;
using k8s.Models;

namespace CriOci.Play;

/// <summary>
/// Pod and container specs to CRI configs, the way kubelet's kuberuntime does
/// (pkg/kubelet/kuberuntime/kuberuntime_sandbox.go, kuberuntime_container_linux.go). Pure: no I/O.
/// Fields crioci play does not support are refused by name rather than ignored.
/// </summary>
public static class PodSpecMapping
{
    public static PodSandboxConfig SandboxConfig(V1Pod pod, string uid, string logDirectory)
    {
        var name = pod.Metadata.Name;
        var ns = string.IsNullOrEmpty(pod.Metadata.NamespaceProperty) ? "default" : pod.Metadata.NamespaceProperty;
        var spec = pod.Spec;
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = ns, Uid = uid, Attempt = 0 },
            Hostname = spec.HostNetwork == true ? "" : spec.Hostname ?? name,
            LogDirectory = logDirectory,
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = NamespaceOptions(spec),
                    RunAsUser = spec.SecurityContext?.RunAsUser is { } user ? new Int64Value { Value = user } : null,
                    RunAsGroup = spec.SecurityContext?.RunAsGroup is { } group ? new Int64Value { Value = group } : null,
                    SupplementalGroups = { (spec.SecurityContext?.SupplementalGroups ?? []).Where(g => g.HasValue).Select(g => g!.Value) },
                },
            },
        };
        foreach (var (key, value) in pod.Metadata.Labels ?? new Dictionary<string, string>())
        {
            config.Labels[key] = value;
        }
        config.Labels[PodPlayer.PodNameLabel] = name;
        config.Labels[PodPlayer.PodNamespaceLabel] = ns;
        config.Labels[PodPlayer.PodUidLabel] = uid;
        foreach (var (key, value) in pod.Metadata.Annotations ?? new Dictionary<string, string>())
        {
            config.Annotations[key] = value;
        }
        if (spec.DnsConfig is { } dns)
        {
            config.DnsConfig = new DNSConfig
            {
                Servers = { dns.Nameservers ?? [] },
                Searches = { dns.Searches ?? [] },
                Options = { (dns.Options ?? []).Select(o => o.Value is null ? o.Name : $"{o.Name}:{o.Value}") },
            };
        }
        foreach (var port in spec.Containers.SelectMany(c => c.Ports ?? []).Where(p => p.HostPort is > 0))
        {
            config.PortMappings.Add(new PortMapping
            {
                ContainerPort = port.ContainerPort,
                HostPort = port.HostPort ?? 0,
                HostIp = port.HostIP ?? "",
                Protocol = port.Protocol switch
                {
                    null or "TCP" => Protocol.Tcp,
                    "UDP" => Protocol.Udp,
                    "SCTP" => Protocol.Sctp,
                    var other => throw new PlayException($"container port protocol {other} is not TCP, UDP or SCTP"),
                },
            });
        }
        return config;
    }

    public static ContainerConfig ContainerConfig(V1Pod pod, V1Container container)
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = container.Name, Attempt = 0 },
            Image = new ImageSpec { Image = container.Image },
            Command = { container.Command ?? [] },
            Args = { container.Args ?? [] },
            WorkingDir = container.WorkingDir ?? "",
            LogPath = $"{container.Name}/0.log",
            Stdin = container.Stdin == true,
            StdinOnce = container.StdinOnce == true,
            Tty = container.Tty == true,
            Labels =
            {
                [PodPlayer.ContainerNameLabel] = container.Name,
                [PodPlayer.PodNameLabel] = pod.Metadata.Name,
                [PodPlayer.PodNamespaceLabel] = string.IsNullOrEmpty(pod.Metadata.NamespaceProperty) ? "default" : pod.Metadata.NamespaceProperty,
            },
            Linux = new LinuxContainerConfig
            {
                Resources = Resources(container.Resources),
                SecurityContext = SecurityContext(pod.Spec, container.SecurityContext),
            },
        };
        foreach (var env in container.Env ?? [])
        {
            if (env.ValueFrom is not null)
            {
                throw new PlayException($"container {container.Name} env {env.Name}: valueFrom needs the API server; give a value");
            }
            config.Envs.Add(new KeyValue { Key = env.Name, Value = env.Value ?? "" });
        }
        if (container.VolumeMounts is { Count: > 0 })
        {
            throw new PlayException($"container {container.Name}: volumeMounts are not supported by crioci play yet");
        }
        return config;
    }

    /// <summary>kubelet's mapping: requests.cpu to shares (1024 per CPU, at least 2), limits.cpu to quota, limits.memory to bytes.</summary>
    internal static LinuxContainerResources Resources(V1ResourceRequirements? requirements)
    {
        var resources = new LinuxContainerResources();
        if (requirements?.Requests?.TryGetValue("cpu", out var cpuRequest) == true)
        {
            resources.CpuShares = Math.Max(2, (long)(cpuRequest.ToDecimal() * 1024));
        }
        if (requirements?.Limits?.TryGetValue("cpu", out var cpuLimit) == true)
        {
            resources.CpuPeriod = CpuPeriodMicroseconds();
            resources.CpuQuota = Math.Max(1000, (long)(cpuLimit.ToDecimal() * CpuPeriodMicroseconds()));
        }
        if (requirements?.Limits?.TryGetValue("memory", out var memoryLimit) == true)
        {
            resources.MemoryLimitInBytes = (long)memoryLimit.ToDecimal();
        }
        return resources;

        static long CpuPeriodMicroseconds() => 100_000;
    }

    internal static LinuxContainerSecurityContext SecurityContext(V1PodSpec spec, V1SecurityContext? container)
    {
        var context = new LinuxContainerSecurityContext
        {
            NamespaceOptions = NamespaceOptions(spec),
            Privileged = container?.Privileged == true,
            ReadonlyRootfs = container?.ReadOnlyRootFilesystem == true,
            NoNewPrivs = container?.AllowPrivilegeEscalation == false,
            SupplementalGroups = { (spec.SecurityContext?.SupplementalGroups ?? []).Where(g => g.HasValue).Select(g => g!.Value) },
        };
        if ((container?.RunAsUser ?? spec.SecurityContext?.RunAsUser) is { } user)
        {
            context.RunAsUser = new Int64Value { Value = user };
        }
        if ((container?.RunAsGroup ?? spec.SecurityContext?.RunAsGroup) is { } group)
        {
            context.RunAsGroup = new Int64Value { Value = group };
        }
        if (container?.Capabilities is { } capabilities)
        {
            context.Capabilities = new Capability
            {
                AddCapabilities = { capabilities.Add ?? [] },
                DropCapabilities = { capabilities.Drop ?? [] },
            };
        }
        return context;
    }

    private static NamespaceOption NamespaceOptions(V1PodSpec spec) => new()
    {
        Network = spec.HostNetwork == true ? NamespaceMode.Node : NamespaceMode.Pod,
        Pid = spec.HostPID == true ? NamespaceMode.Node : spec.ShareProcessNamespace == true ? NamespaceMode.Pod : NamespaceMode.Container,
        Ipc = spec.HostIPC == true ? NamespaceMode.Node : NamespaceMode.Pod,
    };
}
