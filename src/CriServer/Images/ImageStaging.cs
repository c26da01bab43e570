namespace CriOci.CriServer.Images;

/// <summary>
/// Scratch directories of `crioci images import|export` for .tar archives, next to the store so
/// they are on its filesystem. They live only while the command holds the instance lock, so any
/// found by the next holder of that lock belong to a command that was killed: removed then.
/// </summary>
internal static class ImageStaging
{
    private static readonly string[] Prefixes = ["import-", "export-"];

    public static string NewDirectory(string rootDirectory, string kind) =>
        Path.Combine(rootDirectory, $"{kind}-{Guid.NewGuid():N}");

    /// <summary>Only to be called while holding the instance lock of <paramref name="rootDirectory"/>.</summary>
    public static void RemoveInterrupted(string rootDirectory)
    {
        if (!Directory.Exists(rootDirectory))
        {
            return;
        }
        foreach (var directory in Directory.EnumerateDirectories(rootDirectory))
        {
            var name = Path.GetFileName(directory);
            if (Prefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal) && name.Length == prefix.Length + 32))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
