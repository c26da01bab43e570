namespace CriOci.CriServer.Tests;

public sealed class DaemonDirectoriesTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("crioci-dirs-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Create_Missing_CreatedWithModes()
    {
        var options = CriTestServer.Options(Path.Combine(root.FullName, "root")) with
        {
            StateDirectory = Path.Combine(root.FullName, "state"),
            SocketPath = Path.Combine(root.FullName, "sockets", "crioci.sock"),
        };

        DaemonDirectories.Create(options);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(options.RootDirectory));
        const UnixFileMode traverseOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        Assert.Equal(traverseOnly, File.GetUnixFileMode(options.StateDirectory));
        Assert.Equal(traverseOnly, File.GetUnixFileMode(Path.Combine(root.FullName, "sockets")));
    }

    [Fact]
    public void Create_Existing_ModeKept()
    {
        var existing = Directory.CreateDirectory(Path.Combine(root.FullName, "existing")).FullName;
        File.SetUnixFileMode(existing, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var options = CriTestServer.Options(existing);

        DaemonDirectories.Create(options);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, File.GetUnixFileMode(existing));
    }
}
