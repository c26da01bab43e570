using System.Text;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// The one-line report a child sends its parent over an inherited pipe: "ready [detail]" or
/// "error message". The child's end is close-on-exec, so a successful execve closes it and the
/// parent reads end-of-file.
/// </summary>
public static unsafe class SyncPipe
{
    public const string Ready = "ready";
    public const string Error = "error";

    public static void Send(int fd, string kind, string? detail = null)
    {
        var line = detail is null ? kind + "\n" : $"{kind} {detail.ReplaceLineEndings(" ")}\n";
        var bytes = Encoding.UTF8.GetBytes(line);
        fixed (byte* pointer = bytes)
        {
            var offset = 0;
            while (offset < bytes.Length)
            {
                var written = LibC.write(fd, pointer + offset, (nuint)(bytes.Length - offset));
                if (written < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    return; // The parent is gone; nobody is left to tell.
                }
                offset += (int)written;
            }
        }
    }

    /// <summary>True when a child's report is an "error message" line.</summary>
    public static bool IsError(string? report) => report?.StartsWith(Error + " ", StringComparison.Ordinal) == true;

    /// <summary>The message of an "error message" report; any other report unchanged.</summary>
    public static string ErrorText(string report) => IsError(report) ? report[(Error.Length + 1)..] : report;

    /// <summary>The pid of a "ready PID" report.</summary>
    public static bool TryParseReadyPid(string? report, out int pid)
    {
        pid = 0;
        return report is not null && report.StartsWith(Ready + " ", StringComparison.Ordinal)
            && int.TryParse(report.AsSpan(Ready.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pid);
    }

    /// <summary>
    /// <see cref="ReadAll"/> on a dedicated thread, then closes <paramref name="fd"/>: the report
    /// comes once the child has done its set-up, and a pool thread must not wait in read(2)
    /// that long. A short-lived starter process (<paramref name="reapFirst"/>, -1 for none)
    /// that exits before the report is reaped first.
    /// </summary>
    public static Task<string?> ReadAllAsync(int fd, int reapFirst, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() =>
        {
            try
            {
                if (reapFirst > 0)
                {
                    LibC.waitpid(reapFirst, out _, 0);
                }
                return ReadAll(fd);
            }
            finally
            {
                LibC.close(fd);
            }
        }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Reads until end-of-file (blocking); null when the child closed without a word.</summary>
    public static string? ReadAll(int fd)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var read = LibC.read(fd, pointer, (nuint)buffer.Length);
                if (read < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    Errno.Check(-1, "read", "sync pipe");
                }
                if (read == 0)
                {
                    break;
                }
                text.Append(Encoding.UTF8.GetString(buffer, 0, (int)read));
            }
        }
        var result = text.ToString().Trim();
        return result.Length == 0 ? null : result;
    }

    public static void SetCloseOnExec(int fd) =>
        Errno.Check(LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC), "fcntl FD_CLOEXEC", $"fd {fd}");
}
