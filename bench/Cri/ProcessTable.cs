namespace CriOci.Bench.Cri;

/// <summary>The processes of this machine, read from /proc, and their memory.</summary>
public static class ProcessTable
{
    /// <summary>Every process whose argument vector satisfies <paramref name="match"/>.</summary>
    public static IReadOnlyList<int> Find(Func<IReadOnlyList<string>, bool> match)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            string[] argv;
            try
            {
                argv = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            }
            catch (IOException)
            {
                continue; // exited while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            if (argv.Length > 0 && match(argv))
            {
                found.Add(pid);
            }
        }
        return found;
    }

    /// <summary>
    /// The process that listens on the unix socket at <paramref name="socketPath"/>: the socket's
    /// inode from /proc/net/unix (flag __SO_ACCEPTCON, 0x10000, marks a listener), then the
    /// process holding a descriptor to it. Null when none is found.
    /// </summary>
    public static int? UnixSocketListener(string socketPath)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            // Num RefCount Protocol Flags Type St Inode Path
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 8 && fields[7] == socketPath
                && (int.Parse(fields[3], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & 0x10000) != 0)
            {
                inodes.Add($"socket:[{fields[6]}]");
            }
        }
        if (inodes.Count == 0)
        {
            return null;
        }
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(directory, "fd")).Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)))
                {
                    return pid;
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked, or not ours to look at.
            }
        }
        return null;
    }

    /// <summary>The parent's PID (/proc/PID/stat field 4); null once the process is gone.</summary>
    public static int? ParentOf(int pid) => StatFields(pid) is { } fields ? int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>When the process started, in clock ticks since boot (field 22): with the PID, names one process.</summary>
    public static ulong? StartTime(int pid) => StatFields(pid) is { } fields ? ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The process started at <paramref name="startTime"/> still runs (a zombie has ended).</summary>
    public static bool IsAlive(int pid, ulong startTime) =>
        StatFields(pid) is { } fields && fields[0] is not ("Z" or "X") && ulong.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture) == startTime;

    /// <summary>/proc/PID/stat after the command name (which may hold spaces and parentheses): field 3 onwards.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The value that follows <paramref name="flag"/> in <paramref name="argv"/>, if any.</summary>
    public static string? FlagValue(IReadOnlyList<string> argv, string flag)
    {
        for (var i = 0; i < argv.Count - 1; i++)
        {
            if (argv[i] == flag)
            {
                return argv[i + 1];
            }
        }
        return null;
    }

    /// <summary>
    /// RSS and PSS in KiB from /proc/PID/smaps_rollup (PSS divides each shared page among the
    /// processes that map it, so the sum over processes does not count a library twice).
    /// </summary>
    public static MemoryUse Memory(int pid)
    {
        long rss = 0, pss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                rss = KiB(line);
            }
            else if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                pss = KiB(line);
            }
        }
        return new MemoryUse(rss, pss);
    }

    public static MemoryUse Memory(IEnumerable<int> pids) =>
        pids.Select(Memory).Aggregate(new MemoryUse(0, 0), (sum, one) => new MemoryUse(sum.RssKiB + one.RssKiB, sum.PssKiB + one.PssKiB));

    private static long KiB(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record MemoryUse(long RssKiB, long PssKiB);
