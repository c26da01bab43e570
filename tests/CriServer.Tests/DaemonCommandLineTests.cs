namespace CriOci.CriServer.Tests;

public sealed class DaemonCommandLineTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("crioci-options-");

    public void Dispose() => directory.Delete(recursive: true);

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("--root", "/x", "--help")]
    public void Parse_Help_ShowsHelp(params string[] args)
    {
        Assert.True(DaemonCommandLine.Parse(args).ShowHelp);
    }

    [Fact]
    public void Parse_NoArguments_Defaults()
    {
        var options = DaemonCommandLine.Parse([]).Options!;

        Assert.Equal("/run/crioci/crioci.sock", options.SocketPath);
        Assert.Equal("/var/lib/crioci", options.RootDirectory);
        Assert.Equal("/run/crioci", options.StateDirectory);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "crioci-runtime"), options.RuntimeExecutable);
        Assert.Equal("/var/lib/crioci/images", options.ImageRootDirectory);
        Assert.Empty(options.InsecureRegistries);
    }

    [Fact]
    public void Parse_EveryFlag_Used()
    {
        var options = DaemonCommandLine.Parse(["--socket", "/s/c.sock", "--root=/r", "--state", "/st", "--runtime", "/bin/rt"]).Options!;

        Assert.Equal(("/s/c.sock", "/r", "/st", "/bin/rt"), (options.SocketPath, options.RootDirectory, options.StateDirectory, options.RuntimeExecutable));
    }

    [Theory]
    [InlineData("unknown argument: --bogus", "--bogus")]
    [InlineData("unknown argument: extra", "extra")]
    [InlineData("--root needs a value", "--root")]
    [InlineData("--socket needs a value", "--socket=")]
    public void Parse_BadArguments_UsageError(string error, params string[] args)
    {
        var command = DaemonCommandLine.Parse(args);

        Assert.Null(command.Options);
        Assert.Equal(error, command.Error);
    }

    [Fact]
    public void Parse_ConfigFileAndFlags_FlagsOverrideFile()
    {
        var config = Write("""
            {
              // comments are allowed
              "socket": "/file/crioci.sock",
              "root": "/file/root",
              "state": "/file/state",
              "runtime": "/file/runtime",
              "insecureRegistries": ["registry.local:5000"],
            }
            """);

        var options = DaemonCommandLine.Parse(["--config", config, "--root", "/flag/root"]).Options!;

        Assert.Equal("/flag/root", options.RootDirectory);
        Assert.Equal("/file/crioci.sock", options.SocketPath);
        Assert.Equal("/file/state", options.StateDirectory);
        Assert.Equal("/file/runtime", options.RuntimeExecutable);
        Assert.Equal(["registry.local:5000"], options.InsecureRegistries);
    }

    [Theory]
    [InlineData("""{ "sockte": "/x" }""", "sockte")]
    [InlineData("""{ "root": 5 }""", "$.root")]
    [InlineData("""{ "root": """, "LineNumber")]
    [InlineData("null", "expected a JSON object")]
    [InlineData("""{ "insecureRegistries": [""] }""", "insecureRegistries holds an empty entry")]
    public void Parse_BadConfigFile_ErrorNamesFileAndProblem(string content, string problem)
    {
        var config = Write(content);

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--config", config]));

        Assert.StartsWith($"config file {config}: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Parse_MissingConfigFile_ErrorNamesFile()
    {
        var missing = Path.Combine(directory.FullName, "absent.json");

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--config", missing]));

        Assert.StartsWith($"config file {missing}: ", error.Message);
    }

    private string Write(string content)
    {
        var path = Path.Combine(directory.FullName, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        return path;
    }
}
