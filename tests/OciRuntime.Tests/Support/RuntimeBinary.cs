namespace CriOci.OciRuntime.Tests.Support;

/// <summary>The published crioci-runtime the privileged tests drive (./build.sh writes it).</summary>
internal static class RuntimeBinary
{
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CriOci.sln")))
                {
                    return directory.FullName;
                }
            }
            throw new InvalidOperationException($"no CriOci.sln above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The binary's path; a missing binary fails the test and says how to build it.</summary>
    public static string Require()
    {
        var path = Path.Combine(RepositoryRoot, "artifacts", "bin", "crioci-runtime");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Missing test prerequisite: {path} not found. Run ./build.sh in {RepositoryRoot} first (it publishes crioci-runtime into artifacts/bin).");
        }
        return path;
    }

    /// <summary>Debian's statically linked busybox, copied into every test rootfs.</summary>
    public static string RequireBusybox()
    {
        const string path = "/bin/busybox";
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"Missing test prerequisite: {path} not found. Install the Debian package 'busybox-static' (scripts/install-test-deps.sh installs it).");
        }
        return path;
    }

    /// <summary>Privileged tests need root; without it they fail saying so.</summary>
    public static void RequireRoot()
    {
        var uid = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
        if (uid != "0")
        {
            throw new InvalidOperationException($"Missing test prerequisite: this test creates containers and must run as root (effective uid is {uid}).");
        }
    }
}
