using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Unpack;
using CriOci.ImageStore.Unpack.Interop;

namespace CriOci.ImageStore.Snapshots;

/// <summary>
/// Unpacked layers under &lt;root&gt;/snapshots/&lt;chain id hex&gt;/fs, one per chain ID and
/// shared by every image that has it. A layer is unpacked into
/// &lt;root&gt;/snapshots/.tmp-&lt;random&gt;/fs, synced, and renamed into place whole, so a
/// half-unpacked layer is never seen, not even after a crash.
/// </summary>
internal sealed class SnapshotStore
{
    private const string TemporaryPrefix = ".tmp-";
    private const UnixFileMode LayerRootMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string snapshotsDirectory;
    private readonly LayerUnpacker unpacker;

    public SnapshotStore(string rootDirectory, LayerUnpacker unpacker)
    {
        snapshotsDirectory = Path.Combine(rootDirectory, "snapshots");
        this.unpacker = unpacker;
        Directory.CreateDirectory(snapshotsDirectory);
        // Unpacks and deletions that a crash interrupted.
        foreach (var leftover in Directory.EnumerateDirectories(snapshotsDirectory, TemporaryPrefix + "*"))
        {
            Directory.Delete(leftover, recursive: true);
        }
    }

    public string FilesystemPath(Digest chainId) => Path.Combine(snapshotsDirectory, chainId.Hex, "fs");

    public bool Exists(Digest chainId) => Directory.Exists(FilesystemPath(chainId));

    public async Task CreateAsync(
        Digest chainId, string blobPath, Digest diffId, string layerDescription, CancellationToken cancellationToken)
    {
        var temporary = Path.Combine(snapshotsDirectory, TemporaryPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            var filesystem = Path.Combine(temporary, "fs");
            Directory.CreateDirectory(temporary);
            LayerTree.CreateDirectory(filesystem, LayerRootMode);
            await unpacker.UnpackAsync(blobPath, filesystem, diffId, layerDescription, cancellationToken).ConfigureAwait(false);
            Syscalls.SyncFilesystem(temporary);
            Directory.Move(temporary, Path.Combine(snapshotsDirectory, chainId.Hex));
            Syscalls.FsyncDirectory(snapshotsDirectory);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <summary>
    /// Takes the layer out of the store at once (a rename) and returns where it went; the slow
    /// recursive delete is <see cref="DeleteDetached"/>, done outside any lock. Null when absent.
    /// </summary>
    public string? Detach(Digest chainId)
    {
        var path = Path.Combine(snapshotsDirectory, chainId.Hex);
        if (!Directory.Exists(path))
        {
            return null;
        }
        var detached = Path.Combine(snapshotsDirectory, TemporaryPrefix + "removed-" + Guid.NewGuid().ToString("N"));
        Directory.Move(path, detached);
        return detached;
    }

    public static void DeleteDetached(string detached) => Directory.Delete(detached, recursive: true);

    public IEnumerable<Digest> List()
    {
        foreach (var directory in Directory.EnumerateDirectories(snapshotsDirectory))
        {
            var name = Path.GetFileName(directory);
            var algorithm = name.Length == 128 ? Digest.Sha512 : Digest.Sha256;
            if (Digest.TryParse($"{algorithm}:{name}", out var chainId))
            {
                yield return chainId;
            }
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // The next start removes .tmp-* leftovers.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
