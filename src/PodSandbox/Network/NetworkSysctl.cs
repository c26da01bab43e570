namespace CriOci.PodSandbox.Network;

/// <summary>
/// /proc/sys/net values. They belong to the network namespace of the thread that opens the file,
/// so a pod's are written from a thread inside its namespace (<see cref="NetworkNamespaceThread"/>).
/// </summary>
internal static class NetworkSysctl
{
    /// <summary>Best effort, as the bridge plugin does: IPv6 may be off, so its files may be missing.</summary>
    public static void TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Writes <paramref name="value"/> unless it is there already (a read is cheaper than a write, which takes a lock in the kernel).</summary>
    public static void Ensure(string path, string value)
    {
        if (File.ReadAllText(path).Trim() != value)
        {
            File.WriteAllText(path, value);
        }
    }
}
