namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// RFC 3339 timestamps in UTC written as bytes, without .NET's formatting tables (they would
/// double the monitor's size): the fraction to 100 ns, trailing zeros dropped, as both Go's
/// time.RFC3339Nano (CRI logs) and System.Text.Json (exit.json) print it.
/// </summary>
internal static class Rfc3339Timestamp
{
    /// <summary>"2006-01-02T15:04:05.9999999+00:00" at its longest.</summary>
    public const int MaxBytes = 33;

    /// <summary>
    /// DateTimeOffset.UtcNow without its path through the local time zone (which would bring
    /// TimeZoneInfo and the tz database reader into crioci-monitor).
    /// </summary>
    public static DateTimeOffset UtcNow() => new(DateTime.UtcNow.Ticks, TimeSpan.Zero);

    /// <summary>Writes <paramref name="time"/> in UTC, ending in "Z" or, as System.Text.Json does, "+00:00".</summary>
    public static int Format(DateTimeOffset time, Span<byte> text, bool zulu)
    {
        var utc = time.UtcDateTime;
        var at = 0;
        Digits(text, ref at, utc.Year, 4);
        text[at++] = (byte)'-';
        Digits(text, ref at, utc.Month, 2);
        text[at++] = (byte)'-';
        Digits(text, ref at, utc.Day, 2);
        text[at++] = (byte)'T';
        Digits(text, ref at, utc.Hour, 2);
        text[at++] = (byte)':';
        Digits(text, ref at, utc.Minute, 2);
        text[at++] = (byte)':';
        Digits(text, ref at, utc.Second, 2);
        var fraction = (int)(utc.Ticks % TimeSpan.TicksPerSecond);
        if (fraction != 0)
        {
            text[at++] = (byte)'.';
            var digits = 7;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }
            Digits(text, ref at, fraction, digits);
        }
        if (zulu)
        {
            text[at++] = (byte)'Z';
        }
        else
        {
            "+00:00"u8.CopyTo(text[at..]);
            at += 6;
        }
        return at;
    }

    private static void Digits(Span<byte> text, ref int at, int value, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            text[at + i] = (byte)('0' + value % 10);
            value /= 10;
        }
        at += count;
    }
}
