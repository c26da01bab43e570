namespace CriOci.CriServer.Tests;

public sealed class ProgramTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("crioci-main-");

    public void Dispose() => directory.Delete(recursive: true);

    [Fact]
    public async Task Main_Help_PrintsUsageAndExitsZero()
    {
        Assert.Equal(0, await Program.Main(["--help"]));
    }

    [Fact]
    public async Task Main_UnknownFlag_ExitsTwo()
    {
        Assert.Equal(2, await Program.Main(["--bogus"]));
    }

    [Fact]
    public async Task Main_BadConfigFile_ExitsOne()
    {
        Assert.Equal(1, await Program.Main(["--config", WriteConfig("{")]));
    }

    [Fact]
    public async Task Main_RootLockedByAnotherDaemon_ExitsOne()
    {
        var root = directory.CreateSubdirectory("root").FullName;
        using var other = InstanceLock.Acquire(root, Path.Combine(root, "crioci.lock"));

        var exitCode = await Program.Main(
            ["--root", root, "--state", Path.Combine(directory.FullName, "state"), "--socket", Path.Combine(directory.FullName, "crioci.sock")]);

        Assert.Equal(1, exitCode);
    }

    private string WriteConfig(string content)
    {
        var path = Path.Combine(directory.FullName, "config.json");
        File.WriteAllText(path, content);
        return path;
    }
}
