namespace CriOci.PodSandbox.Storage;

/// <summary>A pod as persisted in sandbox.json; its CRI config is stored beside it as config.pb.</summary>
/// <param name="PodIps">The pod's addresses from CNI ADD, IPv4 first; null for hostNetwork pods and records written before CNI.</param>
/// <param name="Infra">The reaper that is PID 1 of the pod's shared PID namespace; null unless the pod's PID mode is POD.</param>
public sealed record SandboxRecord(
    string Id,
    DateTimeOffset CreatedAt,
    bool Ready,
    string RuntimeHandler,
    string? NetworkNamespace,
    string? IpcNamespace,
    string? UtsNamespace,
    string ShmDirectory,
    string HostnameFile,
    string HostsFile,
    string ResolvConfFile,
    IReadOnlyList<string>? PodIps = null,
    OciRuntime.Infra.PodInfraProcess? Infra = null,
    string? UserNamespace = null);

/// <summary>A container as persisted in container.json; its CRI config is stored beside it as config.pb.</summary>
/// <param name="User">The identity its process was given, for ContainerStatus; null in records written before it was kept.</param>
/// <param name="VolumeImageIds">Images mounted as volumes (Mount.image): in use, like the container's own image.</param>
public sealed record ContainerRecord(
    string Id,
    string PodSandboxId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    string ImageId,
    string ImageReference,
    string? LogPath,
    string Bundle,
    string? StopSignal,
    Containers.ResolvedUser? User = null,
    IReadOnlyList<string>? VolumeImageIds = null);
