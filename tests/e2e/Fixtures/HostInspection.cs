namespace CriOci.E2E.Fixtures;

/// <summary>What the host kernel says is left behind: mounts and processes.</summary>
public static class HostInspection
{
    /// <summary>Mount points (from /proc/self/mountinfo) at or below <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> MountsUnder(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        return File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(mountPoint => mountPoint == directory || mountPoint.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>Command lines of live processes (other than <paramref name="exceptPid"/>) whose arguments mention <paramref name="text"/>.</summary>
    public static IReadOnlyList<string> ProcessesMentioning(string text, int exceptPid = 0)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || pid == exceptPid)
            {
                continue;
            }
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                var state = File.ReadAllText(Path.Combine(directory, "stat"));
                var zombie = state[(state.LastIndexOf(')') + 2)..].StartsWith('Z');
                if (commandLine.Contains(text, StringComparison.Ordinal) && !zombie)
                {
                    found.Add($"{pid}: {commandLine}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
