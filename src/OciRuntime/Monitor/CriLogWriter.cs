using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// Writes a container's output in the CRI log format kubelet reads and rotates:
/// <c>&lt;RFC3339Nano time&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;message&gt;\n</c>. A line longer than
/// <see cref="MaxLineBytes"/> is split into partial (P) records ending with a full (F) one.
/// Both streams share one file; each record is one write(2), so records never interleave.
/// </summary>
public sealed unsafe class CriLogWriter : IDisposable
{
    public const int MaxLineBytes = 16 * 1024;

    /// <summary>FileStream's mode for a file it creates, before the umask.</summary>
    private const uint NewFileMode = 0x1b6; // 0666

    /// <summary>
    /// The record time in UTC ticks; null for now. Not a Func&lt;DateTimeOffset&gt;: NativeAOT keeps
    /// delegate Invoke reflectable, and a boxed DateTimeOffset brings all of date formatting and
    /// time zones into crioci-monitor.
    /// </summary>
    private readonly Func<long>? _utcTicks;
    private readonly Stream? _stream;
    private int _fd;
    /// <summary>Not zeroed (only what a record writes is read), so its pages become resident as long records need them.</summary>
    private byte[] _record = GC.AllocateUninitializedArray<byte>(Rfc3339Timestamp.MaxBytes + 16 + MaxLineBytes);

    /// <summary>Records go to <paramref name="output"/> (tests, tools).</summary>
    public CriLogWriter(Stream output, Func<DateTimeOffset>? clock = null)
    {
        _stream = output;
        _fd = -1;
        _utcTicks = clock is null ? null : () => clock().UtcTicks;
    }

    /// <summary>Records go to the open file <paramref name="fd"/>, which the writer now owns.</summary>
    public CriLogWriter(int fd)
    {
        _fd = fd;
    }

    /// <summary>Opens (appending) the log file at <paramref name="path"/>, creating its directory.</summary>
    public static CriLogWriter Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new CriLogWriter(OpenFile(path));
    }

    /// <summary>Opens <paramref name="path"/> for appending, creating it as FileStream would (0666 less the umask).</summary>
    public static int OpenFile(string path) =>
        Errno.Check(LibC.open(path, LibC.O_WRONLY | LibC.O_APPEND | LibC.O_CREAT | LibC.O_CLOEXEC, NewFileMode), "open", path);

    /// <summary>Switches to a new file at <paramref name="path"/> (after kubelet rotated the old one).</summary>
    public void Reopen(string path)
    {
        var fd = OpenFile(path);
        if (_fd >= 0)
        {
            LibC.close(_fd);
        }
        _fd = fd;
    }

    /// <summary>Writes one record: <paramref name="message"/> must not contain a newline.</summary>
    public void WriteRecord(string stream, bool partial, ReadOnlySpan<byte> message)
    {
        var length = Rfc3339Timestamp.MaxBytes + stream.Length + 4 + message.Length + 1;
        if (_record.Length < length)
        {
            _record = GC.AllocateUninitializedArray<byte>(length);
        }
        var record = _record.AsSpan();
        var at = Rfc3339Timestamp.Format(_utcTicks is null ? Rfc3339Timestamp.UtcNow() : new DateTimeOffset(_utcTicks(), TimeSpan.Zero), record, zulu: true);
        record[at++] = (byte)' ';
        foreach (var c in stream)
        {
            record[at++] = (byte)c;
        }
        record[at++] = (byte)' ';
        record[at++] = partial ? (byte)'P' : (byte)'F';
        record[at++] = (byte)' ';
        message.CopyTo(record[at..]);
        at += message.Length;
        record[at++] = (byte)'\n';
        if (_stream is not null)
        {
            _stream.Write(record[..at]);
            return;
        }
        WriteAll(record[..at]);
    }

    /// <summary>RFC 3339 with nanoseconds, UTC, as Go's time.RFC3339Nano prints it (trailing zeros dropped).</summary>
    public static string FormatTimestamp(DateTimeOffset time)
    {
        Span<byte> text = stackalloc byte[Rfc3339Timestamp.MaxBytes];
        return System.Text.Encoding.ASCII.GetString(text[..Rfc3339Timestamp.Format(time, text, zulu: true)]);
    }

    private void WriteAll(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* pointer = bytes)
        {
            var offset = 0;
            while (offset < bytes.Length && _fd >= 0)
            {
                var written = LibC.write(_fd, pointer + offset, (nuint)(bytes.Length - offset));
                if (written < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    // A full or failing disk loses this record, not the container's output to attach clients.
                    return;
                }
                offset += (int)written;
            }
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        if (_fd >= 0)
        {
            LibC.close(_fd);
            _fd = -1;
        }
    }
}

/// <summary>Splits one stream's bytes into CRI log records.</summary>
public sealed class CriLogStream(CriLogWriter writer, string streamName)
{
    /// <summary>Not zeroed, like the writer's record: only the first _pendingLength bytes are read.</summary>
    private readonly byte[] _pending = GC.AllocateUninitializedArray<byte>(CriLogWriter.MaxLineBytes);
    private int _pendingLength;

    public void Append(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            var newline = data.IndexOf((byte)'\n');
            var take = newline >= 0 ? newline : data.Length;
            var room = _pending.Length - _pendingLength;
            if (take > room)
            {
                // Longer than a record may be: emit what fits as a partial line.
                data[..room].CopyTo(_pending.AsSpan(_pendingLength));
                writer.WriteRecord(streamName, partial: true, _pending);
                _pendingLength = 0;
                data = data[room..];
                continue;
            }
            data[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            if (newline < 0)
            {
                return;
            }
            writer.WriteRecord(streamName, partial: false, _pending.AsSpan(0, _pendingLength));
            _pendingLength = 0;
            data = data[(newline + 1)..];
        }
    }

    /// <summary>At end of stream an unterminated last line is written as a full record.</summary>
    public void Flush()
    {
        if (_pendingLength > 0)
        {
            writer.WriteRecord(streamName, partial: false, _pending.AsSpan(0, _pendingLength));
            _pendingLength = 0;
        }
    }
}
