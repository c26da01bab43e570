namespace CriOci.CriServer.Tests;

/// <summary>The config file's defaultRuntimeHandler and runtimeHandlers keys.</summary>
public sealed class RuntimeHandlerConfigTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("crioci-handlers-config-");

    public void Dispose() => _directory.Delete(recursive: true);

    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void Parse_RuntimeHandlers_FromTheFile()
    {
        var config = Write("""
            {
              "defaultRuntimeHandler": "embedded",
              "runtimeHandlers": {
                "crun-debug": { "path": "/usr/bin/crun", "root": "/run/crun-debug", "extraArgs": ["--debug"] },
                "runc": { "path": "/usr/sbin/runc" }
              }
            }
            """);

        var handlers = DaemonCommandLine.Parse(["--config", config], NoEnvironment).Options!.RuntimeHandlers;

        Assert.Equal("embedded", handlers.DefaultName);
        Assert.Equal(["crun-debug", "runc"], handlers.External.Keys);
        Assert.Equal(("/usr/bin/crun", "/run/crun-debug"), (handlers.External["crun-debug"].Path, handlers.RootOf("crun-debug", "/state")));
        Assert.Equal(["--debug"], handlers.External["crun-debug"].ExtraArgs!);
        Assert.Equal(("/usr/sbin/runc", "/state/handlers/runc/root"), (handlers.External["runc"].Path, handlers.RootOf("runc", "/state")));
    }

    [Fact]
    public void Parse_NoConfigAndNothingOnPath_OnlyTheEmbeddedHandler()
    {
        var handlers = DaemonCommandLine.Parse([], NoEnvironment).Options!.RuntimeHandlers;

        Assert.Equal("crioci", handlers.DefaultName);
        Assert.Empty(handlers.External);
    }

    [Fact]
    public void Parse_CrunAndRuncOnPath_AreHandlersWithoutConfiguration()
    {
        var bin = _directory.CreateSubdirectory("bin").FullName;
        foreach (var name in new[] { "crun", "runc" })
        {
            File.WriteAllText(Path.Combine(bin, name), "#!/bin/sh\n");
            File.SetUnixFileMode(Path.Combine(bin, name), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var handlers = DaemonCommandLine.Parse([], name => name == "PATH" ? bin : null).Options!.RuntimeHandlers;

        Assert.Equal([Path.Combine(bin, "crun"), Path.Combine(bin, "runc")], handlers.External.Values.Select(h => h.Path));
    }

    [Theory]
    [InlineData("{\n  \"runtimeHandlers\": {\n    \"crun\": { \"pth\": \"/x\" }\n  }\n}", "key runtimeHandlers.crun.pth: ")]
    [InlineData("{\n  \"runtimeHandlers\": {\n    \"crun\": { }\n  }\n}", " line 3 key runtimeHandlers.crun: needs a path")]
    [InlineData("""{ "runtimeHandlers": { "a/b": { "path": "/x" } } }""", "key runtimeHandlers: \"a/b\" is not a handler name")]
    [InlineData("""{ "runtimeHandlers": { "..": { "path": "/x" } } }""", "key runtimeHandlers: \"..\" is not a handler name")]
    [InlineData("""{ "runtimeHandlers": { "crioci": { "path": "/x" } } }""", "key runtimeHandlers.crioci: is the name of the embedded runtime")]
    [InlineData("""{ "defaultRuntimeHandler": "", "runtimeHandlers": { } }""", "key defaultRuntimeHandler: \"\" is not a handler name")]
    [InlineData("""{ "runtimeHandlers": { "kata": { "path": "kata-runtime-not-installed" } } }""", "runtimeHandlers.kata.path: kata-runtime-not-installed is not on PATH")]
    public void Parse_BadRuntimeHandlers_ErrorNamesTheKey(string content, string problem)
    {
        var config = Write(content);

        var error = Assert.Throws<DaemonConfigException>(() => DaemonCommandLine.Parse(["--config", config], NoEnvironment));

        Assert.StartsWith("config file", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void ConfigDefault_PrintsTheHandlerKeys()
    {
        var printed = DaemonCommandLine.Parse(["config", "default"]).Output!;

        Assert.Contains("\"defaultRuntimeHandler\": \"crioci\"", printed);
        Assert.Contains("\"runtimeHandlers\":", printed);
    }

    private string Write(string content)
    {
        var path = Path.Combine(_directory.FullName, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        return path;
    }
}
