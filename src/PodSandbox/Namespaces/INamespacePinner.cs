namespace CriOci.PodSandbox.Namespaces;

/// <summary>Which of a pod's namespaces to create; the rest are the host's.</summary>
/// <param name="UserNamespace">The pod's own user namespace, which then owns the others; null: the host's.</param>
public sealed record PodNamespaceRequest(bool Network, bool Ipc, bool Uts, string? Hostname, Sandboxes.PodUserNamespace? UserNamespace = null);

/// <summary>Paths of pinned namespaces (null: the host's).</summary>
public sealed record PinnedNamespaces(string? Network, string? Ipc, string? Uts, string? User = null);

/// <summary>
/// Keeps a pod's namespaces alive without a process: they are bind-mounted onto files (CRI-O's
/// pinns), so containers join them by path and they vanish when unmounted.
/// </summary>
public interface INamespacePinner
{
    PinnedNamespaces Pin(string directory, PodNamespaceRequest request);

    /// <summary>Unmounts and deletes every pin under <paramref name="directory"/>. Idempotent.</summary>
    void Unpin(string directory);
}
