using CriOci.Cri.V1;

namespace CriOci.E2E.Fixtures;

/// <summary>Requests as kubelet builds them, reduced to what the tests vary.</summary>
public static class CriRequests
{
    public static PodSandboxConfig Pod(string name, string logDirectory) => new()
    {
        Metadata = new PodSandboxMetadata { Name = name, Namespace = "e2e", Uid = Guid.NewGuid().ToString(), Attempt = 0 },
        Hostname = name,
        LogDirectory = logDirectory,
        Labels = { ["app"] = name },
    };

    public static ContainerConfig Container(string name, string image, params string[] command) => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = image },
        Command = { command },
        LogPath = $"{name}/0.log",
        Labels = { ["container"] = name },
    };
}
