using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CriOci.OciRuntime.Monitor;
using Xunit.Abstractions;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// kubelet parses every line of a CRI log as "&lt;RFC3339Nano&gt; &lt;stream&gt; &lt;P|F&gt; &lt;content&gt;" and
/// joins P records until an F one. Whatever bytes a container writes, in whatever chunks, each
/// line must parse and the joined content must be exactly what was written (an unterminated
/// last line gets the newline its F record implies).
/// </summary>
public sealed partial class CriLogWriterFuzzTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^(?<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z) (?<stream>stdout|stderr) (?<tag>[PF]) $")]
    private static partial Regex RecordHeader();

    private static readonly int[] NewlineChances = [3, 40, 500, 20_000, int.MaxValue];

    [Fact]
    public async Task Append_RandomChunksOfTwoStreams_EveryLineParsesAndContentRoundTrips()
    {
        await FuzzRun.RunAsync(output, "CRI log writer", maxCases: 400, budget: TimeSpan.FromSeconds(8), random =>
        {
            var clockValues = new List<DateTimeOffset>();
            DateTimeOffset Clock()
            {
                var time = RandomTime(random);
                clockValues.Add(time);
                return time;
            }
            using var file = new MemoryStream();
            var writer = new CriLogWriter(file, Clock);
            var streams = new Dictionary<string, (CriLogStream Stream, MemoryStream Written)>
            {
                ["stdout"] = (new CriLogStream(writer, "stdout"), new MemoryStream()),
                ["stderr"] = (new CriLogStream(writer, "stderr"), new MemoryStream()),
            };
            // One byte in N becomes a newline: from a line per few bytes to lines far past the split.
            var newlineChance = NewlineChances[random.Next(NewlineChances.Length)];
            var chunks = random.Next(1, 12);
            for (var i = 0; i < chunks; i++)
            {
                var (stream, written) = streams[random.Next(2) == 0 ? "stdout" : "stderr"];
                var chunk = RandomChunk(random, newlineChance);
                written.Write(chunk);
                stream.Append(chunk);
            }
            foreach (var (stream, _) in streams.Values)
            {
                stream.Flush();
            }

            var reassembled = Parse(file.ToArray(), clockValues);
            foreach (var (name, (_, written)) in streams)
            {
                var expected = written.ToArray();
                var actual = reassembled.TryGetValue(name, out var content) ? content.ToArray() : [];
                var unterminated = expected.Length > 0 && expected[^1] != (byte)'\n';
                Assert.Equal(unterminated ? [.. expected, (byte)'\n'] : expected, actual);
            }
        });
    }

    /// <summary>Checks every record's shape and returns each stream's content, P records joined and F ending a line.</summary>
    private static Dictionary<string, MemoryStream> Parse(byte[] log, List<DateTimeOffset> clockValues)
    {
        var content = new Dictionary<string, MemoryStream>();
        var rest = log.AsSpan();
        var record = 0;
        while (rest.Length > 0)
        {
            var end = rest.IndexOf((byte)'\n');
            Assert.True(end >= 0, "the log ends inside a record");
            var line = rest[..end];
            rest = rest[(end + 1)..];

            // The header is the first three spaces' worth; the content is everything after, spaces included.
            var headerLength = 0;
            for (var spaces = 0; spaces < 3; spaces++)
            {
                var space = line[headerLength..].IndexOf((byte)' ');
                Assert.True(space >= 0, $"record {record} has no complete header: {Encoding.UTF8.GetString(line[..Math.Min(line.Length, 80)])}");
                headerLength += space + 1;
            }
            var header = Encoding.ASCII.GetString(line[..headerLength]);
            var match = RecordHeader().Match(header);
            Assert.True(match.Success, $"record {record} has a malformed header \"{header}\"");
            var time = DateTimeOffset.Parse(match.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.Equal(clockValues[record], time);

            var stream = match.Groups["stream"].Value;
            if (!content.TryGetValue(stream, out var into))
            {
                content[stream] = into = new MemoryStream();
            }
            var message = line[headerLength..];
            Assert.True(message.Length <= CriLogWriter.MaxLineBytes, $"record {record} carries {message.Length} bytes, more than {CriLogWriter.MaxLineBytes}");
            into.Write(message);
            if (match.Groups["tag"].Value == "F")
            {
                into.WriteByte((byte)'\n');
            }
            record++;
        }
        Assert.Equal(clockValues.Count, record);
        return content;
    }

    /// <summary>Bytes of every value (NUL, CR, invalid UTF-8), lines of any length around the 16 KiB split.</summary>
    private static byte[] RandomChunk(Random random, int newlineChance)
    {
        var length = random.Next(4) switch
        {
            0 => random.Next(0, 4),
            1 => random.Next(CriLogWriter.MaxLineBytes - 3, CriLogWriter.MaxLineBytes + 4),
            2 => random.Next(0, 2 * CriLogWriter.MaxLineBytes),
            _ => random.Next(0, 300),
        };
        var chunk = new byte[length];
        random.NextBytes(chunk);
        for (var i = 0; i < chunk.Length; i++)
        {
            if (chunk[i] == (byte)'\n' || random.Next(newlineChance) == 0)
            {
                chunk[i] = (byte)'\n';
            }
        }
        return chunk;
    }

    /// <summary>Any instant in the format's range, with whole seconds sometimes (the fraction is then left out).</summary>
    private static DateTimeOffset RandomTime(Random random)
    {
        var ticks = random.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks);
        if (random.Next(4) == 0)
        {
            ticks -= ticks % TimeSpan.TicksPerSecond;
        }
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
