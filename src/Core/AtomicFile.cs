namespace CriOci.Core;

/// <summary>
/// Writes files so that a reader (or a daemon restarted after SIGKILL) sees either the old
/// content or the new, never a torn mix: write a temporary sibling, fsync it, rename it over
/// the target, then fsync the directory so the rename itself is durable.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content) => Write(path, content, durable: true);

    /// <summary>
    /// Replaces <paramref name="path"/> atomically for every reader, without the two fsyncs: for
    /// runtime state under /run (state.json, exit.json, process.json, bundles, a pod's hosts files), which a reboot
    /// must forget anyway (DESIGN.md "Storage"), so surviving a power loss buys nothing. A process
    /// killed at any point still leaves the old file or the new one. Where /run is not a tmpfs,
    /// the fsyncs cost 5-20 ms each on a loaded disk; runc and crun do not sync their state either.
    /// </summary>
    public static void ReplaceVolatile(string path, ReadOnlySpan<byte> content) => Write(path, content, durable: false);

    public static void WriteAllText(string path, string content) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));

    public static void ReplaceVolatileText(string path, string content) =>
        ReplaceVolatile(path, System.Text.Encoding.UTF8.GetBytes(content));

    private static void Write(string path, ReadOnlySpan<byte> content, bool durable)
    {
        using var staged = StagedFile.Stage(path, content, durable);
        staged.Commit();
    }
}
