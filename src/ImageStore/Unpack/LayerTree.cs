using CriOci.Core;
using CriOci.ImageStore.Unpack.Interop;

namespace CriOci.ImageStore.Unpack;

/// <summary>
/// The layer directory being filled, and the one rule that keeps an entry inside it: no
/// symbolic link inside the layer is ever followed. Every parent component is checked with
/// lstat (statx, AT_SYMLINK_NOFOLLOW) and a symlink there refuses the entry; the final
/// component is removed before it is created, and creation never follows it (O_EXCL, mknod,
/// symlink, linkat). Only this unpacker writes to the directory, so checks cannot go stale.
/// </summary>
internal sealed class LayerTree(string root)
{
    private const UnixFileMode ImplicitDirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Relative paths already known to be real directories; cleared whenever something is removed.</summary>
    private readonly HashSet<string> knownDirectories = new(StringComparer.Ordinal);

    public string Root => root;

    /// <summary>
    /// Makes every parent of <paramref name="components"/> a real directory inside the layer,
    /// creating missing ones (0755, root) as tar extractors do, and returns the parent's path.
    /// </summary>
    public string PrepareParent(IReadOnlyList<string> components, string entryName) =>
        WalkParents(components, entryName, createMissing: true);

    /// <summary>
    /// The path of an existing non-directory entry, for a hard link target: parents must be
    /// real directories and nothing is created.
    /// </summary>
    public string ResolveExistingFile(IReadOnlyList<string> components, string entryName, string linkName)
    {
        if (components.Count == 0)
        {
            throw new InvalidArgumentException($"layer entry \"{entryName}\" is a hard link to the layer root");
        }
        var parent = WalkParents(components, entryName, createMissing: false);
        var path = Path.Join(parent, components[^1]);
        var status = Syscalls.Lstat(path)
            ?? throw new InvalidArgumentException($"layer entry \"{entryName}\" is a hard link to \"{linkName}\", which is not in the layer");
        if (status.IsDirectory)
        {
            throw new InvalidArgumentException($"layer entry \"{entryName}\" is a hard link to the directory \"{linkName}\"");
        }
        return path;
    }

    /// <summary>
    /// Removes whatever is at <paramref name="path"/> without following it. An existing
    /// directory is kept when the new entry is a directory too (tar merges them).
    /// </summary>
    public ClearOutcome Clear(string path, bool keepDirectory)
    {
        var status = Syscalls.Lstat(path);
        if (status is null)
        {
            return ClearOutcome.Absent;
        }
        if (status.Value.IsDirectory)
        {
            if (keepDirectory)
            {
                return ClearOutcome.KeptDirectory;
            }
            // Recursive delete unlinks symlinks it meets instead of descending through them.
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }
        knownDirectories.Clear();
        return ClearOutcome.Removed;
    }

    /// <summary>mkdir with an explicit mode, independent of the daemon's umask.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
    }

    private string WalkParents(IReadOnlyList<string> components, string entryName, bool createMissing)
    {
        var current = root;
        var relative = "";
        for (var i = 0; i < components.Count - 1; i++)
        {
            relative = i == 0 ? components[0] : $"{relative}/{components[i]}";
            current = Path.Join(root, relative);
            if (knownDirectories.Contains(relative))
            {
                continue;
            }
            var status = Syscalls.Lstat(current);
            if (status is null)
            {
                if (!createMissing)
                {
                    throw new InvalidArgumentException($"layer entry \"{entryName}\" refers to \"{relative}\", which is not in the layer");
                }
                CreateDirectory(current, ImplicitDirectoryMode);
            }
            else if (status.Value.IsSymbolicLink)
            {
                throw new InvalidArgumentException(
                    $"layer entry \"{entryName}\" goes through the symbolic link \"{relative}\"; links are never followed while unpacking");
            }
            else if (!status.Value.IsDirectory)
            {
                throw new InvalidArgumentException($"layer entry \"{entryName}\" goes through \"{relative}\", which is not a directory");
            }
            knownDirectories.Add(relative);
        }
        return current;
    }
}

internal enum ClearOutcome
{
    Absent,
    KeptDirectory,
    Removed,
}
