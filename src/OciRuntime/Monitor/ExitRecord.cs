using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// exit.json's one writer, for the monitor and for <see cref="StateDirectory.WriteExit"/>: the
/// text System.Text.Json's serializer writes (camelCase, indented) without the serializer, which
/// is most of a small executable's size. The time is always written in UTC ("+00:00"): for a
/// <see cref="ContainerExitFile.FinishedAt"/> with another offset the serializer would keep that
/// offset, and both name the same instant, so either reads back equal.
/// </summary>
internal static unsafe class ExitRecord
{
    /// <summary>The JSON text; byte for byte the serializer's for a <see cref="ContainerExitFile.FinishedAt"/> in UTC.</summary>
    public static byte[] Serialize(ContainerExitFile exit) => Serialize(exit.ExitCode, exit.Signal, exit.FinishedAt, exit.OomKilled);

    /// <summary>
    /// The same from the fields: the monitor never builds a <see cref="ContainerExitFile"/>, whose
    /// generated ToString would bring date formatting and time zones into crioci-monitor.
    /// </summary>
    public static byte[] Serialize(int exitCode, int signal, DateTimeOffset finishedAt, bool oomKilled)
    {
        Span<byte> time = stackalloc byte[Rfc3339Timestamp.MaxBytes];
        var timeLength = Rfc3339Timestamp.Format(finishedAt, time, zulu: false);
        var text = new List<byte>(128);
        Append(text, "{\n  \"exitCode\": "u8);
        AppendNumber(text, exitCode);
        Append(text, ",\n  \"signal\": "u8);
        AppendNumber(text, signal);
        Append(text, ",\n  \"finishedAt\": \""u8);
        Append(text, time[..timeLength]);
        Append(text, "\",\n  \"oomKilled\": "u8);
        Append(text, oomKilled ? "true"u8 : "false"u8);
        Append(text, "\n}"u8);
        return [.. text];
    }

    /// <summary>
    /// Replaces <paramref name="path"/> atomically (a temporary file renamed over it), without
    /// fsync: state under /run is forgotten on reboot anyway (see AtomicFile.ReplaceVolatile).
    /// </summary>
    public static void Write(string path, int exitCode, int signal, DateTimeOffset finishedAt, bool oomKilled)
    {
        var content = Serialize(exitCode, signal, finishedAt, oomKilled);
        var temporary = path + ".monitor.tmp";
        LibC.unlink(temporary);
        var fd = Errno.Check(LibC.open(temporary, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0x1b6 /* 0666 */), "open", temporary);
        try
        {
            fixed (byte* pointer = content)
            {
                var offset = 0;
                while (offset < content.Length)
                {
                    var written = LibC.write(fd, pointer + offset, (nuint)(content.Length - offset));
                    if (written < 0 && Marshal.GetLastPInvokeError() != Errno.EINTR)
                    {
                        Errno.Check(-1, "write", temporary);
                    }
                    offset += (int)Math.Max(written, 0);
                }
            }
        }
        catch
        {
            LibC.close(fd);
            LibC.unlink(temporary);
            throw;
        }
        LibC.close(fd);
        if (LibC.rename(temporary, path) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.unlink(temporary);
            throw new SyscallException(errno, "rename", path);
        }
    }

    private static void Append(List<byte> text, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            text.Add(b);
        }
    }

    private static void AppendNumber(List<byte> text, int value)
    {
        Span<byte> digits = stackalloc byte[11];
        var at = digits.Length;
        var magnitude = Math.Abs((long)value);
        do
        {
            digits[--at] = (byte)('0' + magnitude % 10);
            magnitude /= 10;
        }
        while (magnitude > 0);
        if (value < 0)
        {
            digits[--at] = (byte)'-';
        }
        Append(text, digits[at..]);
    }
}
