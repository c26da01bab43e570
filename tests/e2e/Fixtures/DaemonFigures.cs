namespace CriOci.E2E.Fixtures;

/// <summary>A process's resident memory, open file descriptors and threads, as /proc shows them.</summary>
public sealed record DaemonFigures(long ResidentKilobytes, int FileDescriptors, int Threads)
{
    public static DaemonFigures Read(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        return new DaemonFigures(
            StatusValue(status, "VmRSS:"),
            Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length,
            (int)StatusValue(status, "Threads:"));
    }

    /// <summary>
    /// What a process's descriptors point at, counted by kind ("pipe 12, socket 8, anon_inode:[eventpoll] 1,
    /// /tmp/x/state/runtime 3"): files are grouped by directory, so a leak names its source.
    /// </summary>
    public static string DescribeFileDescriptors(int pid) => string.Join(", ",
        Directory.GetFileSystemEntries($"/proc/{pid}/fd")
            .Select(fd => LinkTargetOrGone(fd))
            .Select(target => target.StartsWith('/') ? Path.GetDirectoryName(target) ?? target : target.Split(':')[0] is var kind && kind is "pipe" or "socket" ? kind : target)
            .GroupBy(kind => kind)
            .OrderByDescending(group => group.Count())
            .Select(group => $"{group.Key} {group.Count()}"));

    private static string LinkTargetOrGone(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "(closed)";
        }
    }

    /// <summary>proc(5) status lines are "Name:\tvalue [kB]".</summary>
    private static long StatusValue(string[] status, string name) =>
        long.Parse(status.Single(line => line.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0]);

    public override string ToString() => $"RSS {ResidentKilobytes / 1024.0:0.0} MiB, {FileDescriptors} fds, {Threads} threads";
}
