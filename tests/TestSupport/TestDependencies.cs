namespace CriOci.TestSupport;

/// <summary>
/// Thrown when a program or file the tests need is not on the machine. Tests never skip for
/// this: the test fails and the message names what to install.
/// </summary>
public sealed class MissingTestDependencyException : Exception
{
    public MissingTestDependencyException(string message)
        : base(message)
    {
    }

    public MissingTestDependencyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Checks for the Debian-packaged tools the end-to-end tests drive.</summary>
public static class TestDependencies
{
    public const string InstallScript = "scripts/install-test-deps.sh";

    public const string DockerRegistryPath = "/usr/bin/docker-registry";
    public const string UmociPath = "/usr/bin/umoci";
    public const string SkopeoPath = "/usr/bin/skopeo";
    public const string BusyboxPath = "/bin/busybox";

    /// <summary>Returns <paramref name="path"/> if it exists, otherwise throws naming the Debian package to install.</summary>
    public static string RequireFile(string path, string debianPackage)
    {
        if (!File.Exists(path))
        {
            throw new MissingTestDependencyException(
                $"Missing test dependency: {path} not found. Install the Debian package '{debianPackage}' " +
                $"(run {InstallScript} as root, which installs every package the tests need).");
        }

        return path;
    }

    public static string RequireDockerRegistry() => RequireFile(DockerRegistryPath, "docker-registry");

    public static string RequireUmoci() => RequireFile(UmociPath, "umoci");

    public static string RequireSkopeo() => RequireFile(SkopeoPath, "skopeo");

    public static string RequireBusybox() => RequireFile(BusyboxPath, "busybox-static");

    /// <summary>True when the test process runs as root (needed by privileged tests and by umoci without --rootless).</summary>
    public static bool IsRoot => GetEffectiveUserId() == 0;

    private static uint GetEffectiveUserId()
    {
        // /proc/self/status "Uid:\treal\teffective\tsaved\tfs"; avoids P/Invoke in a test helper.
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return uint.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return uint.MaxValue;
    }
}
