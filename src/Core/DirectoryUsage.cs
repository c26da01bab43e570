using System.IO.Enumeration;

namespace CriOci.Core;

/// <summary>Bytes and inodes under a directory, the figures CRI FilesystemUsage carries.</summary>
/// <param name="UsedBytes">Apparent size of every regular file under the root.</param>
/// <param name="InodesUsed">Files, directories, links and device nodes under the root, the root included.</param>
public readonly record struct DirectoryUsage(long UsedBytes, long InodesUsed)
{
    /// <summary>
    /// Walks <paramref name="root"/>. Links are counted, never followed; entries that vanish
    /// during the walk (a concurrent removal) are skipped; a missing root is empty.
    /// </summary>
    public static DirectoryUsage Measure(string root)
    {
        if (!Directory.Exists(root))
        {
            return default;
        }
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            // Dot files are "hidden" to .NET; whiteouts and temporary files count too.
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
        };
        var entries = new FileSystemEnumerable<long>(
            root,
            (ref entry) => entry.IsDirectory || (entry.Attributes & FileAttributes.ReparsePoint) != 0 ? 0 : LengthOrZero(ref entry),
            options)
        {
            ShouldRecursePredicate = (ref entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        long usedBytes = 0;
        long inodes = 1;
        foreach (var length in entries)
        {
            usedBytes += length;
            inodes++;
        }
        return new DirectoryUsage(usedBytes, inodes);
    }

    private static long LengthOrZero(ref FileSystemEntry entry)
    {
        try
        {
            return entry.Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
