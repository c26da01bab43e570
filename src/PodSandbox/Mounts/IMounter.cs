namespace CriOci.PodSandbox;

/// <summary>The mounts the daemon makes in the host's mount namespace (fakeable in tests).</summary>
public interface IMounter
{
    void Bind(string source, string target, bool readOnly);

    void MountTmpfs(string target, string options);

    /// <summary>Mounts an overlay of <paramref name="lowerDirectories"/> (topmost first) with an upper and work dir.</summary>
    void MountOverlay(IReadOnlyList<string> lowerDirectories, string upperDirectory, string workDirectory, string target);

    /// <summary>Mounts a read-only overlay of two or more <paramref name="lowerDirectories"/> (topmost first), with no upper dir.</summary>
    void MountReadOnlyOverlay(IReadOnlyList<string> lowerDirectories, string target);

    /// <summary>
    /// Mounts a clone of <paramref name="source"/> on <paramref name="target"/>, id-mapped by the
    /// user namespace at <paramref name="userNamespacePath"/>: the host's ids show as that namespace's.
    /// </summary>
    void BindIdmapped(string source, string target, string userNamespacePath);

    /// <summary>Detaches whatever is mounted at <paramref name="target"/>; nothing mounted or no such path is fine.</summary>
    void Unmount(string target);
}
