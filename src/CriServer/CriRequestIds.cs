using CriOci.Cri.V1;

namespace CriOci.CriServer;

/// <summary>
/// The pod and container IDs a request is about, for log scopes and span tags (never metric
/// tags: IDs are unbounded). Only requests that carry an ID are listed.
/// </summary>
internal readonly record struct CriRequestIds(string? PodSandboxId, string? ContainerId)
{
    public bool IsEmpty => PodSandboxId is null && ContainerId is null;

    public static CriRequestIds Of(object request) => request switch
    {
        StopPodSandboxRequest r => Pod(r.PodSandboxId),
        RemovePodSandboxRequest r => Pod(r.PodSandboxId),
        PodSandboxStatusRequest r => Pod(r.PodSandboxId),
        CreateContainerRequest r => Pod(r.PodSandboxId),
        StartContainerRequest r => Container(r.ContainerId),
        StopContainerRequest r => Container(r.ContainerId),
        RemoveContainerRequest r => Container(r.ContainerId),
        ContainerStatusRequest r => Container(r.ContainerId),
        ExecSyncRequest r => Container(r.ContainerId),
        _ => default,
    };

    public IReadOnlyList<KeyValuePair<string, object?>> ToScope()
    {
        var scope = new List<KeyValuePair<string, object?>>(2);
        if (PodSandboxId is not null)
        {
            scope.Add(new("PodSandboxId", PodSandboxId));
        }
        if (ContainerId is not null)
        {
            scope.Add(new("ContainerId", ContainerId));
        }
        return scope;
    }

    private static CriRequestIds Pod(string id) => new(NullIfEmpty(id), null);

    private static CriRequestIds Container(string id) => new(null, NullIfEmpty(id));

    private static string? NullIfEmpty(string id) => id.Length == 0 ? null : id;
}
