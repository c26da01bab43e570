using System.Text;
using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Tests.Monitor;

public sealed class CriLogWriterTests
{
    private static readonly DateTimeOffset Now = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private const string Stamp = "2024-05-06T07:08:09Z";

    private static (CriLogWriter Writer, MemoryStream Output) NewWriter()
    {
        var output = new MemoryStream();
        return (new CriLogWriter(output, () => Now), output);
    }

    private static string Text(MemoryStream output) => Encoding.UTF8.GetString(output.ToArray());

    public static TheoryData<DateTimeOffset, string> TimestampCases => new()
    {
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), "2024-01-02T03:04:05Z" },
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, 500, TimeSpan.Zero), "2024-01-02T03:04:05.5Z" },
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, 120, TimeSpan.Zero), "2024-01-02T03:04:05.12Z" },
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567), "2024-01-02T03:04:05.1234567Z" },
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1), "2024-01-02T03:04:05.0000001Z" },
        { new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(9999990), "2024-01-02T03:04:05.999999Z" },
        { new DateTimeOffset(2024, 1, 2, 5, 4, 5, TimeSpan.FromHours(2)), "2024-01-02T03:04:05Z" },
        { new DateTimeOffset(2023, 12, 31, 23, 59, 59, TimeSpan.FromHours(-1)), "2024-01-01T00:59:59Z" },
    };

    [Theory]
    [MemberData(nameof(TimestampCases))]
    public void FormatTimestamp_AnyTime_MatchesGoRfc3339NanoInUtc(DateTimeOffset time, string expected)
    {
        var formatted = CriLogWriter.FormatTimestamp(time);

        Assert.Equal(expected, formatted);
    }

    [Fact]
    public void WriteRecord_FullAndPartial_WritesExactBytes()
    {
        var (writer, output) = NewWriter();

        writer.WriteRecord("stdout", partial: false, "hello world"u8);
        writer.WriteRecord("stderr", partial: true, "half"u8);

        Assert.Equal($"{Stamp} stdout F hello world\n{Stamp} stderr P half\n", Text(output));
    }

    [Fact]
    public void Append_CompleteLines_WritesOneFullRecordEach()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");

        stream.Append("first\nsecond\n"u8);

        Assert.Equal($"{Stamp} stdout F first\n{Stamp} stdout F second\n", Text(output));
    }

    [Fact]
    public void Append_LineSplitAcrossReads_WritesOneRecordWhenTheNewlineArrives()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");

        stream.Append("hel"u8);
        var afterFirst = output.Length;
        stream.Append("lo\n"u8);

        Assert.Equal(0, afterFirst);
        Assert.Equal($"{Stamp} stdout F hello\n", Text(output));
    }

    [Fact]
    public void Append_EmptyLine_WritesEmptyFullRecord()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");

        stream.Append("\n"u8);

        Assert.Equal($"{Stamp} stdout F \n", Text(output));
    }

    [Fact]
    public void Append_LineLongerThanMax_WritesPartialThenFull()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");
        var line = new string('a', CriLogWriter.MaxLineBytes) + "bcd";

        stream.Append(Encoding.ASCII.GetBytes(line + "\n"));

        var expected = $"{Stamp} stdout P {new string('a', CriLogWriter.MaxLineBytes)}\n{Stamp} stdout F bcd\n";
        Assert.Equal(expected, Text(output));
    }

    [Fact]
    public void Append_LineOfSeveralMaxLengths_WritesPartialsThenFull()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stderr");
        var max = CriLogWriter.MaxLineBytes;
        var line = new string('x', max) + new string('y', max) + "z";

        // Arrives in small reads, as a pipe delivers it.
        var bytes = Encoding.ASCII.GetBytes(line + "\n");
        for (var offset = 0; offset < bytes.Length; offset += 1000)
        {
            stream.Append(bytes.AsSpan(offset, Math.Min(1000, bytes.Length - offset)));
        }

        var expected = $"{Stamp} stderr P {new string('x', max)}\n{Stamp} stderr P {new string('y', max)}\n{Stamp} stderr F z\n";
        Assert.Equal(expected, Text(output));
    }

    [Fact]
    public void Append_LineOfExactlyMaxBytes_WritesOneFullRecord()
    {
        // The class documents that only a line *longer* than MaxLineBytes is split, which is
        // also containerd's rule (internal/cri/io/logger.go splits when length > maxLen).
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");
        var line = new string('a', CriLogWriter.MaxLineBytes);

        stream.Append(Encoding.ASCII.GetBytes(line + "\n"));

        Assert.Equal($"{Stamp} stdout F {line}\n", Text(output));
    }

    [Fact]
    public void Flush_UnterminatedLastLine_WritesItAsFull()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");

        stream.Append("done\nno newline"u8);
        stream.Flush();

        Assert.Equal($"{Stamp} stdout F done\n{Stamp} stdout F no newline\n", Text(output));
    }

    [Fact]
    public void Flush_NothingPending_WritesNothing()
    {
        var (writer, output) = NewWriter();
        var stream = new CriLogStream(writer, "stdout");

        stream.Append("line\n"u8);
        stream.Flush();
        stream.Flush();

        Assert.Equal($"{Stamp} stdout F line\n", Text(output));
    }

    [Fact]
    public void Append_TwoStreamsInterleaved_KeepEachStreamsLinesWhole()
    {
        var (writer, output) = NewWriter();
        var stdout = new CriLogStream(writer, "stdout");
        var stderr = new CriLogStream(writer, "stderr");

        stdout.Append("out-"u8);
        stderr.Append("err-1\nerr-"u8);
        stdout.Append("line\n"u8);
        stderr.Append("2\n"u8);

        Assert.Equal(
            $"{Stamp} stderr F err-1\n{Stamp} stdout F out-line\n{Stamp} stderr F err-2\n",
            Text(output));
    }

    [Fact]
    public void WriteRecord_ClockAdvances_EachRecordGetsItsOwnTime()
    {
        var output = new MemoryStream();
        var times = new Queue<DateTimeOffset>([Now, Now.AddTicks(5)]);
        using var writer = new CriLogWriter(output, () => times.Dequeue());

        writer.WriteRecord("stdout", false, "a"u8);
        writer.WriteRecord("stdout", false, "b"u8);

        Assert.Equal($"{Stamp} stdout F a\n2024-05-06T07:08:09.0000005Z stdout F b\n", Text(output));
    }

    [Fact]
    public void Open_MissingDirectory_CreatesItAndAppends()
    {
        var directory = Path.Combine(Path.GetTempPath(), "crioci-log-" + Guid.NewGuid().ToString("N"));
        var path = Path.Combine(directory, "pod", "container.log");
        try
        {
            using (var first = CriLogWriter.Open(path))
            {
                first.WriteRecord("stdout", false, "one"u8);
            }
            using (var second = CriLogWriter.Open(path))
            {
                second.WriteRecord("stdout", false, "two"u8);
            }

            var lines = File.ReadAllLines(path);
            Assert.Equal(2, lines.Length);
            Assert.EndsWith(" stdout F one", lines[0]);
            Assert.EndsWith(" stdout F two", lines[1]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Reopen_AfterRotation_WritesToTheNewFile()
    {
        var directory = Directory.CreateTempSubdirectory("crioci-log-").FullName;
        var path = Path.Combine(directory, "0.log");
        try
        {
            using var writer = CriLogWriter.Open(path);
            writer.WriteRecord("stdout", false, "before"u8);
            File.Move(path, path + ".1");

            writer.Reopen(path);
            writer.WriteRecord("stdout", false, "after"u8);

            Assert.EndsWith(" stdout F before\n", File.ReadAllText(path + ".1"));
            Assert.EndsWith(" stdout F after\n", File.ReadAllText(path));
            Assert.DoesNotContain("before", File.ReadAllText(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
