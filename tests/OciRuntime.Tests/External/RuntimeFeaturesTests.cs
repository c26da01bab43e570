using CriOci.OciRuntime.External;

namespace CriOci.OciRuntime.Tests.External;

public sealed class RuntimeFeaturesTests
{
    [Fact]
    public void Parse_Runc11Features_NeitherRroNorUserNamespaces()
    {
        // runc 1.1: user namespaces listed, but no idmapped mounts and no "rro".
        var features = RuntimeFeatures.Parse("""
            { "ociVersionMin": "1.0.0", "mountOptions": ["bind", "ro", "rbind"],
              "linux": { "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] } }
            """);

        Assert.Equal(RuntimeFeatures.None, features);
    }

    [Fact]
    public void Parse_Runc12Features_Both()
    {
        var features = RuntimeFeatures.Parse("""
            { "mountOptions": ["bind", "rro"],
              "linux": { "namespaces": ["user"], "mountExtensions": { "idmap": { "enabled": true } } } }
            """);

        Assert.Equal(new RuntimeFeatures(true, true), features);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{ "mountOptions": "rro", "linux": [] }""")]
    public void Parse_Garbage_None(string text)
    {
        Assert.Equal(RuntimeFeatures.None, RuntimeFeatures.Parse(text));
    }

    [Fact]
    public void Probe_BinaryWithoutFeaturesVerb_None()
    {
        // /bin/false stands for crun 1.8, which answers "unknown command features" and fails.
        Assert.Equal(RuntimeFeatures.None, RuntimeFeatures.Probe(new ExternalBinary("/bin/false", "/nonexistent", [])));
    }

    [Fact]
    public void Command_GlobalOptionsComeBeforeTheVerb()
    {
        var binary = new ExternalBinary("/usr/bin/crun", "/run/h/root", ["--debug"]);

        Assert.Equal(["/usr/bin/crun", "--root", "/run/h/root", "--debug", "kill", "abc", "9"], binary.Command("kill", "abc", "9"));
        var parsed = ExternalBinary.FromMonitorArguments("/usr/bin/crun", "/run/h/root", ["--debug"]);
        Assert.Equal(("/usr/bin/crun", "/run/h/root"), (parsed?.Path, parsed?.Root));
        Assert.Equal(["--debug"], parsed!.ExtraArgs);
        Assert.Equal(["--external", "/usr/bin/crun", "--external-root", "/run/h/root", "--", "--debug"], binary.ToMonitorArguments());
    }
}

public sealed class SpecVersionAdapterTests
{
    [Theory]
    [InlineData("crun version 1.8.1\ncommit: f8a0\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX", "1.0.0")]
    [InlineData("runc version 1.1.5+ds1\ncommit: 1.1.5\nspec: 1.0.2-dev\ngo: go1.19.8", "1.0.2-dev")]
    [InlineData("youki 0.3", null)]
    public void ParseSpecVersion_FromVersionOutput(string output, string? expected)
    {
        Assert.Equal(expected, SpecVersionAdapter.ParseSpecVersion(output));
    }

    [Fact]
    public void Adapt_NewerBundle_IsLabelledWithTheBinarysSpec_OlderIsLeftAlone()
    {
        var directory = Directory.CreateTempSubdirectory("crioci-specversion-").FullName;
        try
        {
            var script = Path.Combine(directory, "fake-runtime");
            File.WriteAllText(script, "#!/bin/sh\necho 'fake version 1'\necho 'spec: 1.0.0'\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var adapter = new SpecVersionAdapter(new ExternalBinary(script, directory, []));
            var config = Path.Combine(directory, "config.json");

            File.WriteAllText(config, """{"ociVersion":"1.2.0","process":{"args":["sh"]}}""");
            adapter.Adapt(directory);
            Assert.Equal("""{"ociVersion":"1.0.0","process":{"args":["sh"]}}""", File.ReadAllText(config));

            File.WriteAllText(config, """{"ociVersion":"1.0.2"}""");
            adapter.Adapt(directory);
            Assert.Equal("""{"ociVersion":"1.0.2"}""", File.ReadAllText(config));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
