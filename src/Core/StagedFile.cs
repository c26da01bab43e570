namespace CriOci.Core;

/// <summary>
/// An atomic, durable file write in two steps, so a caller can overlap the slow one with other
/// work: <see cref="Stage"/> writes the content to a temporary sibling and fsyncs it (the step
/// that waits for the disk), <see cref="Commit"/> renames it over the target and fsyncs the
/// directory. Nobody sees the content before Commit; disposing an uncommitted file deletes the
/// temporary. <see cref="AtomicFile.WriteAllBytes"/> is both steps at once.
/// </summary>
public sealed class StagedFile : IDisposable
{
    private readonly string _temporary;
    private readonly string _directory;
    private bool _done;

    private StagedFile(string path, string directory, string temporary)
    {
        Path = path;
        _directory = directory;
        _temporary = temporary;
    }

    /// <summary>The file the content will replace.</summary>
    public string Path { get; }

    /// <param name="durable">False skips the fsync of the content (and Commit's of the directory): for state a reboot forgets anyway.</param>
    public static StagedFile Stage(string path, ReadOnlySpan<byte> content, bool durable = true)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))
            ?? throw new ArgumentException($"path has no directory: {path}", nameof(path));
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            stream.Write(content);
            stream.Flush(flushToDisk: durable);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        return new StagedFile(path, durable ? directory : "", temporary);
    }

    /// <summary>
    /// Renames the content into place, then makes the rename durable unless
    /// <paramref name="syncDirectory"/> is false: a caller that commits several files of one
    /// directory syncs it with the last, which covers every rename made in it before.
    /// </summary>
    public void Commit(bool syncDirectory = true)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        File.Move(_temporary, Path, overwrite: true);
        _done = true;
        if (syncDirectory && _directory.Length > 0)
        {
            DirectorySync.Fsync(_directory);
        }
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            File.Delete(_temporary);
        }
    }
}
