using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Tests.Linux;

public sealed class SignalsTests
{
    public static TheoryData<string, int> ValidCases => new()
    {
        { "9", 9 },
        { "1", 1 },
        { "64", 64 },
        { "KILL", 9 },
        { "SIGKILL", 9 },
        { "sigkill", 9 },
        { "kill", 9 },
        { "SIGTERM", 15 },
        { "TERM", 15 },
        { "HUP", 1 },
        { "SIGINT", 2 },
        { "QUIT", 3 },
        { "SIGUSR1", 10 },
        { "USR2", 12 },
        { "SIGCHLD", 17 },
        { "CONT", 18 },
        { "SIGSTOP", 19 },
        { "WINCH", 28 },
        { "SIGIOT", 6 },
        { "ABRT", 6 },
        { "POLL", 29 },
        { "IO", 29 },
        { "SYS", 31 },
        { "SIGRTMIN", 34 },
        { "RTMIN", 34 },
        { "SIGRTMIN+3", 37 },
        { "rtmin+1", 35 },
        { "SIGRTMAX", 64 },
        { "SIGRTMAX-1", 63 },
        { "RTMAX-30", 34 },
    };

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void Parse_KnownNameOrNumber_ReturnsSignalNumber(string value, int expected)
    {
        var signal = Signals.Parse(value);

        Assert.Equal(expected, signal);
    }

    public static TheoryData<string> InvalidCases => new()
    {
        "",
        "0",
        "65",
        "-9",
        "+9",
        "SIG",
        "BOGUS",
        "SIGBOGUS",
        "KILLX",
        " 9",
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Parse_UnknownName_ThrowsArgumentExceptionNamingIt(string value)
    {
        var exception = Assert.Throws<ArgumentException>(() => Signals.Parse(value));

        Assert.Contains($"unknown signal {value}", exception.Message);
    }

    public static TheoryData<string> MalformedRealtimeCases => new()
    {
        "RTMINX",
        "SIGRTMIN+",
        "SIGRTMAX+x",
        "SIGRTMIN+31",
        "SIGRTMIN+40",
        "SIGRTMAX+1",
        "SIGRTMIN-1",
        "SIGRTMAX-31",
    };

    [Theory]
    [MemberData(nameof(MalformedRealtimeCases))]
    public void Parse_MalformedOrOutOfRangeRealtimeSignal_ThrowsArgumentException(string value)
    {
        // Real-time signals are 34..64 on Linux; anything else must be the same "unknown
        // signal" error as a bad name, not a FormatException or a number kill(2) rejects.
        var exception = Record.Exception(() => Signals.Parse(value));

        var argument = Assert.IsType<ArgumentException>(exception);
        Assert.Contains(value, argument.Message);
    }
}
