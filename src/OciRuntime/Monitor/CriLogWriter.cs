using System.Text;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// Writes a container's output in the CRI log format kubelet reads and rotates:
/// <c>&lt;RFC3339Nano time&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;message&gt;\n</c>. A line longer than
/// <see cref="MaxLineBytes"/> is split into partial (P) records ending with a full (F) one.
/// Both streams share one file, so records are written whole under a lock.
/// </summary>
public sealed class CriLogWriter : IDisposable
{
    public const int MaxLineBytes = 16 * 1024;

    private readonly object _lock = new();
    private readonly Func<DateTimeOffset> _clock;
    private Stream _output;

    public CriLogWriter(Stream output, Func<DateTimeOffset>? clock = null)
    {
        _output = output;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>Opens (appending) the log file at <paramref name="path"/>, creating its directory.</summary>
    public static CriLogWriter Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new CriLogWriter(OpenFile(path));
    }

    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

    /// <summary>Switches to a new file at <paramref name="path"/> (after kubelet rotated the old one).</summary>
    public void Reopen(string path)
    {
        lock (_lock)
        {
            var old = _output;
            _output = OpenFile(path);
            old.Dispose();
        }
    }

    /// <summary>Writes one record: <paramref name="message"/> must not contain a newline.</summary>
    public void WriteRecord(string stream, bool partial, ReadOnlySpan<byte> message)
    {
        var header = Encoding.ASCII.GetBytes($"{FormatTimestamp(_clock())} {stream} {(partial ? 'P' : 'F')} ");
        var record = new byte[header.Length + message.Length + 1];
        header.CopyTo(record, 0);
        message.CopyTo(record.AsSpan(header.Length));
        record[^1] = (byte)'\n';
        lock (_lock)
        {
            _output.Write(record);
        }
    }

    /// <summary>RFC 3339 with nanoseconds, UTC, as Go's time.RFC3339Nano prints it (trailing zeros dropped).</summary>
    public static string FormatTimestamp(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var fraction = (utc.Ticks % TimeSpan.TicksPerSecond * 100).ToString("D9", System.Globalization.CultureInfo.InvariantCulture).TrimEnd('0');
        var seconds = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        return fraction.Length == 0 ? seconds + "Z" : $"{seconds}.{fraction}Z";
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _output.Dispose();
        }
    }
}

/// <summary>Splits one stream's bytes into CRI log records.</summary>
public sealed class CriLogStream(CriLogWriter writer, string streamName)
{
    private readonly byte[] _pending = new byte[CriLogWriter.MaxLineBytes];
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
