using System.Globalization;

namespace CriOci.OciRuntime.Linux;

/// <summary>Signal numbers (x86_64 and arm64 agree on these) and their names.</summary>
public static class Signals
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    private static readonly Dictionary<string, int> Numbers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["IOT"] = 6,
        ["BUS"] = 7, ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12,
        ["PIPE"] = 13, ["ALRM"] = 14, ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CONT"] = 18,
        ["STOP"] = 19, ["TSTP"] = 20, ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24,
        ["XFSZ"] = 25, ["VTALRM"] = 26, ["PROF"] = 27, ["WINCH"] = 28, ["IO"] = 29, ["POLL"] = 29,
        ["PWR"] = 30, ["SYS"] = 31,
    };

    /// <summary>Parses "9", "KILL", "SIGKILL", "sigkill", "RTMIN+3".</summary>
    public static int Parse(string value)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is > 0 and < 65)
        {
            return number;
        }
        var name = value.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? value[3..] : value;
        if (Numbers.TryGetValue(name, out number))
        {
            return number;
        }
        // Real-time signals: SIGRTMIN (34) + 0..30 and SIGRTMAX (64) - 0..30, as glibc numbers them.
        if (name.StartsWith("RTMIN", StringComparison.OrdinalIgnoreCase) && RealtimeOffset(name[5..], '+') is { } above)
        {
            return 34 + above;
        }
        if (name.StartsWith("RTMAX", StringComparison.OrdinalIgnoreCase) && RealtimeOffset(name[5..], '-') is { } below)
        {
            return 64 - below;
        }
        throw new ArgumentException($"unknown signal {value}");
    }

    private static int? RealtimeOffset(string suffix, char sign)
    {
        if (suffix.Length == 0)
        {
            return 0;
        }
        return suffix[0] == sign
            && int.TryParse(suffix.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            && offset is >= 0 and <= 30
            ? offset
            : null;
    }
}
