using CriOci.CriServer.Images;

namespace CriOci.CriServer.Tests;

public sealed class ImagesCommandTests : IDisposable
{
    private readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("crioci-images-cmd-");

    public void Dispose() => directory.Delete(recursive: true);

    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void Parse_Import_LayoutNameAndDaemonFlags()
    {
        var (request, error) = ImagesCommandLine.Parse(["import", "--root", "/r", "--name=example.com/app", "layout.tar"], NoEnvironment);

        Assert.Null(error);
        Assert.True(request!.Import);
        Assert.Equal(Path.GetFullPath("layout.tar"), request.Path);
        Assert.Equal("example.com/app", request.BaseName);
        Assert.Equal("/r", request.Options.RootDirectory);
        Assert.Equal("/r/images", request.Options.ImageStore.RootDirectory);
    }

    [Fact]
    public void Parse_Export_ImageAndTarget()
    {
        var (request, error) = ImagesCommandLine.Parse(["export", "busybox:1", "/out/dir", "--root=/r"], NoEnvironment);

        Assert.Null(error);
        Assert.False(request!.Import);
        Assert.Equal(("busybox:1", "/out/dir"), (request.Image, request.Path));
    }

    [Theory]
    [InlineData("expected import or export", "list")]
    [InlineData("import takes one layout (a directory or a .tar)", "import")]
    [InlineData("import takes one layout (a directory or a .tar)", "import", "a", "b")]
    [InlineData("export takes an image and a target (a directory or a .tar)", "export", "busybox")]
    [InlineData("--name applies to import only", "export", "--name", "x", "busybox", "/out")]
    [InlineData("--name needs a value", "import", "--name")]
    [InlineData("unknown argument: --bogus", "import", "--bogus", "v", "layout")]
    public void Parse_BadArguments_UsageError(string expected, params string[] args)
    {
        var (request, error) = ImagesCommandLine.Parse(args, NoEnvironment);

        Assert.Null(request);
        Assert.Equal(expected, error);
    }

    [Fact]
    public async Task RunAsync_DaemonHoldsLock_RefusesNamingRootAndWritesNothing()
    {
        // Arrange: the lock a running daemon holds on its root.
        var root = Path.Combine(directory.FullName, "root");
        Directory.CreateDirectory(root);
        using var daemonLock = InstanceLock.Acquire(root, Path.Combine(root, "crioci.lock"));
        var output = new StringWriter();
        var error = new StringWriter();

        // Act
        var exit = await ImagesCommand.RunAsync(
            ["export", "--root", root, "--state", Path.Combine(directory.FullName, "state"), "--socket", Path.Combine(directory.FullName, "c.sock"), "busybox", Path.Combine(directory.FullName, "out")],
            output, error);

        // Assert
        Assert.Equal(1, exit);
        Assert.Contains($"a crioci daemon is running with root {root}", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Stop the daemon", error.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, "images")));
        Assert.False(Directory.Exists(Path.Combine(directory.FullName, "out")));
    }

    [Fact]
    public async Task RunAsync_ExportUnknownImage_FailsNamingIt()
    {
        var root = Path.Combine(directory.FullName, "root");
        var error = new StringWriter();

        var exit = await ImagesCommand.RunAsync(
            ["export", "--root", root, "--state", Path.Combine(directory.FullName, "state"), "--socket", Path.Combine(directory.FullName, "c.sock"), "nothing:here", Path.Combine(directory.FullName, "out")],
            new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.Contains("image nothing:here is not in the store", error.ToString(), StringComparison.Ordinal);
    }
}
