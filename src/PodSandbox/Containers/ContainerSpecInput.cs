using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox.Storage;

namespace CriOci.PodSandbox.Containers;

/// <summary>Everything a container's config.json is generated from.</summary>
/// <param name="SecurityLabels">The AppArmor profile and SELinux labels LinuxSecurityModules chose for this node.</param>
/// <param name="ImageVolumeSources">Where each image volume (Mount.image) is mounted on the host, by container path.</param>
/// <param name="UserNamespace">The pod's own user namespace, which the container joins (pinned at Sandbox.UserNamespace); null: the host's.</param>
public sealed record ContainerSpecInput(
    string ContainerId,
    ContainerConfig Config,
    PodSandboxConfig SandboxConfig,
    SandboxRecord Sandbox,
    ContainerImage Image,
    ResolvedUser User,
    SeccompSpec? LocalhostSeccompProfile = null,
    IReadOnlyDictionary<string, string>? ImageVolumeSources = null,
    string? PidNamespacePath = null,
    LinuxSecurityLabels? SecurityLabels = null,
    Sandboxes.PodUserNamespace? UserNamespace = null);
