using CriOci.Cri.V1;

namespace CriOci.Bench.Cri;

/// <summary>The CRI requests of the workloads, as kubelet would build them for a plain pod.</summary>
public static class BenchRequests
{
    public static PodSandboxConfig Pod(string name, string logDirectory, bool hostNetwork)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = name, Namespace = "crioci-bench", Uid = Guid.NewGuid().ToString(), Attempt = 0 },
            // kubelet sends no hostname for a host-network pod: it has the node's UTS namespace.
            Hostname = hostNetwork ? "" : name,
            LogDirectory = Path.Combine(logDirectory, name),
            Labels = { ["app"] = "crioci-bench" },
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = hostNetwork ? NamespaceMode.Node : NamespaceMode.Pod },
                },
            },
        };
        return config;
    }

    /// <summary>busybox `sleep` for as long as the pod lives.</summary>
    public static ContainerConfig Sleeper(string name, string image) => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = image },
        Command = { "sleep", "2147483647" },
        LogPath = $"{name}.log",
        Labels = { ["app"] = "crioci-bench" },
    };
}
