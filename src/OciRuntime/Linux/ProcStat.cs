using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>Reads /proc/PID/stat, the kernel's own record of a process.</summary>
public static class ProcStat
{
    /// <summary>The start time (field 22) of a process, or null when the PID is gone.</summary>
    public static ulong? StartTime(int pid) => Read(pid) is { } text ? StartTimeOf(text) : null;

    /// <summary>State letter (field 3): 'Z' for a zombie, 'X' for dead.</summary>
    public static char? StateLetter(int pid) => Read(pid) is { } text ? StateLetterOf(text) : null;

    /// <summary>True when PID still names the process that started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool IsSameLiveProcess(int pid, ulong startTime) =>
        pid > 0 && Read(pid) is { } text && StartTimeOf(text) == startTime && StateLetterOf(text) is not ('Z' or 'X');

    /// <summary>PF_EXITING in the task's flags: it has begun to exit (and may already have closed its files), but is not a zombie yet.</summary>
    private const ulong ExitingFlag = 0x4;

    /// <summary>
    /// Whether <paramref name="pid"/> is on its way out: killed, it closes its descriptors
    /// before it becomes a zombie, so a peer can see them closed while its state letter still
    /// says it runs.
    /// </summary>
    public static bool IsExiting(int pid) => Read(pid) is { } text && FlagsOf(text) is { } flags && (flags & ExitingFlag) != 0;

    private static ulong? FlagsOf(string text) => NumericField(text, 9);

    private static ulong? StartTimeOf(string text) => NumericField(text, 22);

    /// <summary>Field <paramref name="number"/> (1-based, as proc(5) numbers them, 3 or later) as a number.</summary>
    private static ulong? NumericField(string text, int number)
    {
        // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
        var afterName = text.LastIndexOf(')');
        if (afterName < 0 || afterName + 2 > text.Length)
        {
            return null;
        }
        // fields[0] is field 3 (state).
        var fields = text[(afterName + 2)..].Split(' ');
        var index = number - 3;
        return fields.Length > index && ulong.TryParse(fields[index], out var value) ? value : null;
    }

    private static char? StateLetterOf(string text)
    {
        var afterName = text.LastIndexOf(')');
        return afterName >= 0 && afterName + 2 < text.Length ? text[afterName + 2] : null;
    }

    /// <summary>
    /// The file's text, or null when the process is gone. Read with plain system calls: a gone
    /// process is the common answer (every delete asks), and an exception for it cost more than
    /// the read.
    /// </summary>
    private static unsafe string? Read(int pid)
    {
        var fd = LibC.open($"/proc/{pid}/stat", LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            // One read returns the whole record (the kernel formats it at once); 52 numbers and a
            // 16-byte name stay well below this.
            var buffer = stackalloc byte[2048];
            nint length;
            do
            {
                length = LibC.read(fd, buffer, 2048);
            }
            while (length < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR);
            return length > 0 ? System.Text.Encoding.UTF8.GetString(buffer, (int)length) : null;
        }
        finally
        {
            LibC.close(fd);
        }
    }
}
