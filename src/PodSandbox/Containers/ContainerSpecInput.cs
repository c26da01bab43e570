using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Storage;

namespace CriOci.PodSandbox.Containers;

/// <summary>Everything a container's config.json is generated from.</summary>
public sealed record ContainerSpecInput(
    string ContainerId,
    ContainerConfig Config,
    PodSandboxConfig SandboxConfig,
    SandboxRecord Sandbox,
    ContainerImage Image,
    ResolvedUser User,
    SeccompSpec? LocalhostSeccompProfile = null,
    string? PidNamespacePath = null);
