namespace CriOci.E2E.Fixtures;

/// <summary>Where the built executables are: artifacts/bin of the repository the tests run from.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string BinDirectory => Path.Combine(Root, "artifacts", "bin");

    public static string Daemon => Require(Path.Combine(BinDirectory, "crioci"));

    public static string Runtime => Require(Path.Combine(BinDirectory, "crioci-runtime"));

    private static string Require(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: run ./build.sh first (test.sh does)", path);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CriOci.sln")))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no CriOci.sln above {AppContext.BaseDirectory}");
    }
}
