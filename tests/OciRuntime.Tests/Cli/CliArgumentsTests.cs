using CriOci.OciRuntime.Cli;

namespace CriOci.OciRuntime.Tests.Cli;

public sealed class CliArgumentsTests
{
    private static readonly HashSet<string> Switches = new(StringComparer.Ordinal) { "force", "f", "detach", "d" };

    [Fact]
    public void Parse_FlagWithSeparateValue_ReadsTheNextArgument()
    {
        var parsed = CliArguments.Parse(["--bundle", "/b", "id1"], Switches);

        Assert.Equal("/b", parsed.Flag("bundle"));
        Assert.Equal(["id1"], parsed.Positional);
    }

    [Fact]
    public void Parse_FlagWithEqualsValue_SplitsAtTheFirstEquals()
    {
        var parsed = CliArguments.Parse(["--root=/run/x", "--label=a=b", "id1"], Switches);

        Assert.Equal("/run/x", parsed.Flag("root"));
        Assert.Equal("a=b", parsed.Flag("label"));
        Assert.Equal(["id1"], parsed.Positional);
    }

    [Fact]
    public void Parse_SingleDashFlag_IsTheSameAsDoubleDash()
    {
        var parsed = CliArguments.Parse(["-b", "/bundle", "id1"], Switches);

        Assert.Equal("/bundle", parsed.Flag("bundle", "b"));
    }

    [Fact]
    public void Parse_Switch_TakesNoValue()
    {
        var parsed = CliArguments.Parse(["--force", "id1"], Switches);

        Assert.True(parsed.Switch("force", "f"));
        Assert.Equal("true", parsed.Flag("force"));
        Assert.Equal(["id1"], parsed.Positional);
    }

    public static TheoryData<string, bool> SwitchValueCases => new()
    {
        { "--force=true", true },
        { "--force=1", true },
        { "--force=false", false },
        { "--force=0", false },
        { "-f", true },
    };

    [Theory]
    [MemberData(nameof(SwitchValueCases))]
    public void Switch_ExplicitValue_IsHonoured(string argument, bool expected)
    {
        var parsed = CliArguments.Parse([argument, "id1"], Switches);

        Assert.Equal(expected, parsed.Switch("force", "f"));
    }

    [Fact]
    public void Switch_Absent_IsFalse()
    {
        var parsed = CliArguments.Parse(["id1"], Switches);

        Assert.False(parsed.Switch("force"));
        Assert.Null(parsed.Flag("force"));
    }

    [Fact]
    public void Parse_DoubleDash_MakesEverythingAfterItPositional()
    {
        var parsed = CliArguments.Parse(["--root", "/r", "id1", "--", "--force", "-x", "SIGKILL"], Switches);

        Assert.Equal(["id1", "--force", "-x", "SIGKILL"], parsed.Positional);
        Assert.False(parsed.Switch("force"));
    }

    [Fact]
    public void Parse_LoneDash_IsPositional()
    {
        var parsed = CliArguments.Parse(["-", "id1"], Switches);

        Assert.Equal(["-", "id1"], parsed.Positional);
    }

    [Fact]
    public void Parse_FlagWithoutValueAtTheEnd_ThrowsNamingTheFlag()
    {
        var exception = Assert.Throws<CliException>(() => CliArguments.Parse(["id1", "--bundle"], Switches));

        Assert.Equal("flag --bundle needs a value", exception.Message);
    }

    [Fact]
    public void Parse_RepeatedFlag_LastValueWins()
    {
        var parsed = CliArguments.Parse(["--log", "a", "--log", "b"], Switches);

        Assert.Equal("b", parsed.Flag("log"));
    }

    [Fact]
    public void Flag_SeveralNames_ReturnsTheFirstPresent()
    {
        var parsed = CliArguments.Parse(["-b", "/short"], Switches);

        Assert.Equal("/short", parsed.Flag("bundle", "b"));
        Assert.Null(parsed.Flag("pid-file"));
    }

    [Fact]
    public void Required_PresentIndex_ReturnsValue()
    {
        var parsed = CliArguments.Parse(["id1", "KILL"], Switches);

        Assert.Equal("id1", parsed.Required(0, "container ID"));
        Assert.Equal("KILL", parsed.Required(1, "signal"));
    }

    [Fact]
    public void Required_MissingIndex_ThrowsNamingWhat()
    {
        var parsed = CliArguments.Parse(["--force"], Switches);

        var exception = Assert.Throws<CliException>(() => parsed.Required(0, "container ID"));

        Assert.Equal("missing container ID", exception.Message);
    }
}
