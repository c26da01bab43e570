using System.Formats.Tar;
using CriOci.Core;

namespace CriOci.CriServer.Images;

/// <summary>
/// An OCI image layout as one tar file (what `skopeo copy oci-archive:` and `ctr images export`
/// write): extracted into a directory before an import, packed after an export.
/// </summary>
internal static class LayoutArchive
{
    /// <summary>A path ending in .tar, or an existing regular file, is an archive; anything else a directory.</summary>
    public static bool IsArchivePath(string path) =>
        path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) || File.Exists(path);

    /// <summary>
    /// A layout holds only directories and regular files (oci-layout, index.json, blobs/...):
    /// anything else, and any name that is absolute or goes up, refuses the archive instead of
    /// being written.
    /// </summary>
    public static async Task ExtractAsync(string archive, string directory, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(archive);
        await using (stream.ConfigureAwait(false))
        {
            var reader = new TarReader(stream);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    var components = entry.Name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(c => c != ".").ToArray();
                    if (entry.Name.StartsWith('/') || components.Contains(".."))
                    {
                        throw new InvalidArgumentException($"image layout archive {archive}: entry \"{entry.Name}\" points outside the layout");
                    }
                    var target = Path.Combine([directory, .. components]);
                    switch (entry.EntryType)
                    {
                        case TarEntryType.Directory:
                            Directory.CreateDirectory(target);
                            break;
                        case TarEntryType.RegularFile or TarEntryType.V7RegularFile when components.Length > 0:
                            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                            await entry.ExtractToFileAsync(target, overwrite: false, cancellationToken).ConfigureAwait(false);
                            break;
                        default:
                            throw new InvalidArgumentException(
                                $"image layout archive {archive}: entry \"{entry.Name}\" is a {entry.EntryType}; a layout holds only files and directories");
                    }
                }
            }
        }
    }

    /// <summary>Packs the layout directory's content (no leading directory) into <paramref name="archive"/>, whole or not at all.</summary>
    public static async Task CreateAsync(string directory, string archive, CancellationToken cancellationToken)
    {
        var temporary = archive + $".tmp-{Guid.NewGuid():N}";
        try
        {
            await TarFile.CreateFromDirectoryAsync(directory, temporary, includeBaseDirectory: false, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, archive, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
