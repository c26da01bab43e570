using CriOci.CriServer.Images;

namespace CriOci.CriServer.Tests;

public sealed class ImageStagingTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("crioci-staging-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void RemoveInterrupted_LeftByAKilledImportAndExport_RemovedWithTheirContent()
    {
        var import = Directory.CreateDirectory(ImageStaging.NewDirectory(root.FullName, "import"));
        File.WriteAllText(Path.Combine(import.FullName, "index.json"), "{}");
        Directory.CreateDirectory(Path.Combine(import.FullName, "blobs", "sha256"));
        var export = Directory.CreateDirectory(ImageStaging.NewDirectory(root.FullName, "export"));

        ImageStaging.RemoveInterrupted(root.FullName);

        Assert.False(Directory.Exists(import.FullName));
        Assert.False(Directory.Exists(export.FullName));
    }

    [Theory]
    [InlineData("images")]
    [InlineData("import-notes")]
    [InlineData("export-0123456789abcdef0123456789abcdef-kept")]
    public void RemoveInterrupted_OtherDirectories_Kept(string name)
    {
        var other = Directory.CreateDirectory(Path.Combine(root.FullName, name));

        ImageStaging.RemoveInterrupted(root.FullName);

        Assert.True(Directory.Exists(other.FullName), $"{name} was removed");
    }

    [Fact]
    public void RemoveInterrupted_RootMissing_NothingToDo()
    {
        ImageStaging.RemoveInterrupted(Path.Combine(root.FullName, "missing"));

        Assert.False(Directory.Exists(Path.Combine(root.FullName, "missing")));
    }
}
