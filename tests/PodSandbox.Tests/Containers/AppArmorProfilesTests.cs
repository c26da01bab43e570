using CriOci.Core;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

/// <summary>The loaded-profile check over a profiles file written here, and loading through a stand-in parser.</summary>
public sealed class AppArmorProfilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-apparmor-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string ProfilesFile(params string[] lines)
    {
        var path = Path.Combine(_directory, "profiles");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Theory]
    [InlineData("crioci-default", true)]
    [InlineData("my profile", true)]
    [InlineData("/usr/bin/man", true)]
    [InlineData("crioci", false)]
    [InlineData("docker-default", false)]
    [InlineData("(enforce)", false)]
    public void IsLoaded_ReadsNamesBeforeTheMode(string name, bool loaded)
    {
        var profiles = new AppArmorProfiles(ProfilesFile("crioci-default (enforce)", "my profile (complain)", "/usr/bin/man (enforce)",
            "docker-default//child (enforce)"));

        Assert.Equal(loaded, profiles.IsLoaded(name));
    }

    [Fact]
    public void IsLoaded_NoProfilesFile_FailedPreconditionNamingIt()
    {
        var missing = Path.Combine(_directory, "no-such-file");

        var error = Assert.Throws<FailedPreconditionException>(() => new AppArmorProfiles(missing).IsLoaded("p"));

        Assert.Contains(missing, error.Message);
    }

    /// <summary>A parser that records its arguments and standard input, then exits with <paramref name="exitCode"/>.</summary>
    private string FakeParser(int exitCode)
    {
        var path = Path.Combine(_directory, "apparmor_parser");
        File.WriteAllText(path, $"#!/bin/sh\necho \"$@\" > '{_directory}/args'\ncat > '{_directory}/stdin'\necho 'parser says no' >&2\nexit {exitCode}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task LoadAsync_RunsTheParserWithKrAndTheProfileOnStdin()
    {
        var profiles = new AppArmorProfiles(ProfilesFile(), FakeParser(exitCode: 0));

        await profiles.LoadAsync("crioci-default", "profile text\n", CancellationToken.None);

        Assert.Equal("-Kr\n", File.ReadAllText(Path.Combine(_directory, "args")));
        Assert.Equal("profile text\n", File.ReadAllText(Path.Combine(_directory, "stdin")));
    }

    [Fact]
    public async Task LoadAsync_ParserFails_FailedPreconditionWithItsError()
    {
        var profiles = new AppArmorProfiles(ProfilesFile(), FakeParser(exitCode: 3));

        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() => profiles.LoadAsync("crioci-default", "text", CancellationToken.None));

        Assert.Contains("crioci-default", error.Message);
        Assert.Contains("exited with 3", error.Message);
        Assert.Contains("parser says no", error.Message);
    }

    [Fact]
    public async Task LoadAsync_NoParser_FailedPreconditionNamingIt()
    {
        var missing = Path.Combine(_directory, "no-such-parser");

        var error = await Assert.ThrowsAsync<FailedPreconditionException>(() => new AppArmorProfiles(ProfilesFile(), missing).LoadAsync("p", "text", CancellationToken.None));

        Assert.Contains(missing, error.Message);
    }
}
