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
