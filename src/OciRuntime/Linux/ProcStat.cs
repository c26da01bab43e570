namespace CriOci.OciRuntime.Linux;

/// <summary>Reads /proc/PID/stat, the kernel's own record of a process.</summary>
public static class ProcStat
{
    /// <summary>The start time (field 22) of a process, or null when the PID is gone.</summary>
    public static ulong? StartTime(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
        var afterName = text.LastIndexOf(')');
        if (afterName < 0)
        {
            return null;
        }
        var fields = text[(afterName + 2)..].Split(' ');
        // fields[0] is field 3 (state); field 22 is therefore fields[19].
        return fields.Length > 19 && ulong.TryParse(fields[19], out var start) ? start : null;
    }

    /// <summary>State letter (field 3): 'Z' for a zombie, 'X' for dead.</summary>
    public static char? StateLetter(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = text.LastIndexOf(')');
            return afterName >= 0 && afterName + 2 < text.Length ? text[afterName + 2] : null;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
    }

    /// <summary>True when PID still names the process that started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool IsSameLiveProcess(int pid, ulong startTime) =>
        pid > 0 && StartTime(pid) == startTime && StateLetter(pid) is not ('Z' or 'X');
}
