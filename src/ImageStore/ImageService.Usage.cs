using System.IO.Enumeration;

namespace CriOci.ImageStore;

internal sealed partial class ImageService
{
    /// <summary>
    /// Walks the root for CRI ImageFsInfo. Links are counted, never followed; entries that
    /// vanish during the walk (a concurrent removal) are skipped.
    /// </summary>
    public ImageFilesystemUsage GetFilesystemUsage()
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            // Dot files are "hidden" to .NET; whiteouts and temporary files count too.
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
        };
        var entries = new FileSystemEnumerable<long>(
            rootDirectory,
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
        return new ImageFilesystemUsage(rootDirectory, usedBytes, inodes);
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
