using System.Formats.Tar;
using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Unpack.Interop;
using Microsoft.Extensions.Logging;

namespace CriOci.ImageStore.Unpack;

/// <summary>
/// Writes one tar entry into the layer tree with its type, owner, mode (setuid, setgid and
/// sticky included), PAX xattrs and mtime, turning OCI whiteouts into overlay whiteouts.
/// Metadata order matters: chown clears setuid bits and file capabilities, so owner first,
/// then mode, then xattrs, then times; directory times last of all, after their children.
/// </summary>
internal sealed class EntryWriter(LayerTree tree, ILogger logger, string layerDescription)
{
    private const string XattrPaxPrefix = "SCHILY.xattr.";
    private const int EOPNOTSUPP = 95;

    private readonly Dictionary<string, DateTimeOffset> directoryTimes = new(StringComparer.Ordinal);

    public void Write(TarEntry entry)
    {
        var name = entry.Name;
        if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
        {
            return;
        }
        var components = EntryPath.Split(name, name);
        if (components.Count == 0)
        {
            if (entry.EntryType != TarEntryType.Directory)
            {
                throw new InvalidArgumentException($"layer entry \"{name}\" names the layer root but is not a directory");
            }
            ApplyOwnerModeXattrs(tree.Root, entry, isSymbolicLink: false);
            directoryTimes[tree.Root] = entry.ModificationTime;
            return;
        }

        var parent = tree.PrepareParent(components, name);
        var baseName = components[^1];
        if (baseName.StartsWith(Whiteout.Prefix, StringComparison.Ordinal))
        {
            WriteWhiteout(parent, baseName, entry);
            return;
        }

        var path = Path.Join(parent, baseName);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (Clear(path, keepDirectory: true) != ClearOutcome.KeptDirectory)
                {
                    LayerTree.CreateDirectory(path, entry.Mode);
                }
                ApplyOwnerModeXattrs(path, entry, isSymbolicLink: false);
                directoryTimes[path] = entry.ModificationTime;
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Clear(path, keepDirectory: false);
                WriteFile(path, entry);
                ApplyOwnerModeXattrs(path, entry, isSymbolicLink: false);
                Syscalls.Lutimes(path, entry.ModificationTime);
                break;
            case TarEntryType.SymbolicLink:
                // symlink(2) cannot store an empty target or one with a NUL: the archive is broken.
                if (entry.LinkName.Length == 0 || entry.LinkName.Contains('\0', StringComparison.Ordinal))
                {
                    throw new InvalidArgumentException($"layer entry \"{name}\" is a symbolic link without a valid target");
                }
                Clear(path, keepDirectory: false);
                // The target is stored as written: it is resolved inside the container, never here.
                File.CreateSymbolicLink(path, entry.LinkName);
                ApplyOwnerModeXattrs(path, entry, isSymbolicLink: true);
                Syscalls.Lutimes(path, entry.ModificationTime);
                break;
            case TarEntryType.HardLink:
                WriteHardLink(path, entry);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                Clear(path, keepDirectory: false);
                var type = entry.EntryType switch
                {
                    TarEntryType.CharacterDevice => LibC.S_IFCHR,
                    TarEntryType.BlockDevice => LibC.S_IFBLK,
                    _ => LibC.S_IFIFO,
                };
                var (major, minor) = entry is PosixTarEntry posix ? ((uint)posix.DeviceMajor, (uint)posix.DeviceMinor) : (0u, 0u);
                Syscalls.Mknod(path, type, entry.Mode, major, minor);
                ApplyOwnerModeXattrs(path, entry, isSymbolicLink: false);
                Syscalls.Lutimes(path, entry.ModificationTime);
                break;
            default:
                throw new InvalidArgumentException($"layer entry \"{name}\" has unsupported tar type {entry.EntryType}");
        }
    }

    /// <summary>Sets directory times once nothing more is written into them.</summary>
    public void ApplyDirectoryTimes()
    {
        foreach (var (path, time) in directoryTimes)
        {
            Syscalls.Lutimes(path, time);
        }
        directoryTimes.Clear();
    }

    private void WriteWhiteout(string parent, string baseName, TarEntry entry)
    {
        if (baseName == Whiteout.OpaqueMarker)
        {
            Syscalls.Lsetxattr(parent, Whiteout.OpaqueXattr, Whiteout.OpaqueValue);
            return;
        }
        if (baseName.StartsWith(Whiteout.MetaPrefix, StringComparison.Ordinal))
        {
            // Other ".wh..wh." names are aufs bookkeeping (hard link dirs), meaningless for overlay.
            return;
        }
        var hidden = baseName[Whiteout.Prefix.Length..];
        if (hidden is "" or "." or "..")
        {
            throw new InvalidArgumentException($"layer entry \"{entry.Name}\" is a whiteout without a valid name");
        }
        var path = Path.Join(parent, hidden);
        Clear(path, keepDirectory: false);
        Syscalls.Mknod(path, LibC.S_IFCHR, 0, 0, 0);
        Syscalls.Lchown(path, (uint)entry.Uid, (uint)entry.Gid);
        Syscalls.Lutimes(path, entry.ModificationTime);
    }

    private void WriteHardLink(string path, TarEntry entry)
    {
        var targetComponents = EntryPath.Split(entry.LinkName, entry.Name);
        var target = tree.ResolveExistingFile(targetComponents, entry.Name, entry.LinkName);
        if (target == path)
        {
            return;
        }
        Clear(path, keepDirectory: false);
        // A hard link shares the target's inode, and with it owner, mode and times.
        Syscalls.HardLink(target, path);
    }

    private static void WriteFile(string path, TarEntry entry)
    {
        var options = new FileStreamOptions
        {
            // CreateNew is O_CREAT|O_EXCL: it never opens through a symlink left at the path.
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 0,
        };
        using var file = new FileStream(path, options);
        entry.DataStream?.CopyTo(file, 128 * 1024);
    }

    private void ApplyOwnerModeXattrs(string path, TarEntry entry, bool isSymbolicLink)
    {
        Syscalls.Lchown(path, (uint)entry.Uid, (uint)entry.Gid);
        if (!isSymbolicLink)
        {
            File.SetUnixFileMode(path, entry.Mode);
        }
        if (entry is PaxTarEntry pax)
        {
            ApplyXattrs(path, pax);
        }
    }

    private void ApplyXattrs(string path, PaxTarEntry entry)
    {
        foreach (var (key, value) in entry.ExtendedAttributes)
        {
            if (!key.StartsWith(XattrPaxPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            var name = key[XattrPaxPrefix.Length..];
            if (name.StartsWith(Whiteout.OverlayXattrPrefix, StringComparison.Ordinal))
            {
                Log.XattrSkipped(logger, name, entry.Name, layerDescription, "overlayfs reserves it");
                continue;
            }
            // .NET decodes PAX records as UTF-8; a binary value that is not valid UTF-8 comes
            // back with U+FFFD and cannot be restored byte for byte, so it is not written.
            if (value.Contains('\uFFFD', StringComparison.Ordinal))
            {
                Log.XattrSkipped(logger, name, entry.Name, layerDescription, "its binary value is not valid UTF-8");
                continue;
            }
            try
            {
                Syscalls.Lsetxattr(path, name, Encoding.UTF8.GetBytes(value));
            }
            catch (SyscallException e) when (e.Errno == EOPNOTSUPP)
            {
                Log.XattrSkipped(logger, name, entry.Name, layerDescription, "the filesystem does not support it");
            }
        }
    }

    /// <summary>Clears the path and forgets the pending times of directories removed with it.</summary>
    private ClearOutcome Clear(string path, bool keepDirectory)
    {
        var outcome = tree.Clear(path, keepDirectory);
        if (outcome == ClearOutcome.Removed && directoryTimes.Count > 0)
        {
            var prefix = path + "/";
            foreach (var directory in directoryTimes.Keys.Where(k => k == path || k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                directoryTimes.Remove(directory);
            }
        }
        return outcome;
    }
}
