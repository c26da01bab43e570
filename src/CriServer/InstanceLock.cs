namespace CriOci.CriServer;

/// <summary>
/// One daemon per root directory: two daemons reconciling the same metadata would each kill
/// the other's containers. Held as an exclusive flock(2) on &lt;root&gt;/crioci.lock (.NET takes
/// LOCK_EX|LOCK_NB for FileShare.None on Linux); the kernel drops it when the process dies,
/// so a kill -9 never leaves a stale lock behind.
/// </summary>
internal sealed class InstanceLock : IDisposable
{
    private readonly FileStream lockFile;

    private InstanceLock(FileStream lockFile) => this.lockFile = lockFile;

    /// <summary>Takes the lock or throws <see cref="DaemonConfigException"/> naming the root.</summary>
    public static InstanceLock Acquire(string rootDirectory, string lockFilePath)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(lockFilePath, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException ex) when (ex.GetType() == typeof(IOException))
        {
            // A plain IOException is what EWOULDBLOCK from flock surfaces as; subclasses
            // (FileNotFound, DirectoryNotFound, PathTooLong) mean something else went wrong.
            throw new DaemonConfigException($"another crioci is running with root {rootDirectory} (lock {lockFilePath} is held)", ex);
        }

        // The holder's PID, for whoever investigates the message above.
        stream.SetLength(0);
        using (var writer = new StreamWriter(stream, leaveOpen: true))
        {
            writer.Write($"{Environment.ProcessId}\n");
        }
        stream.Flush(flushToDisk: false);
        return new InstanceLock(stream);
    }

    public void Dispose() => lockFile.Dispose();
}
