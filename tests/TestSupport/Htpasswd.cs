namespace CriOci.TestSupport;

/// <summary>htpasswd files with bcrypt entries (the only kind docker-registry accepts), made by Debian's apache2-utils.</summary>
public static class Htpasswd
{
    public const string HtpasswdPath = "/usr/bin/htpasswd";

    /// <summary>Writes <paramref name="path"/> with one bcrypt entry per (user, password).</summary>
    public static async Task WriteAsync(string path, IEnumerable<(string User, string Password)> users, CancellationToken cancellationToken = default)
    {
        var htpasswd = TestDependencies.RequireFile(HtpasswdPath, "apache2-utils");
        var lines = new List<string>();
        foreach (var (user, password) in users)
        {
            // -B bcrypt, -b password from the command line, -n print instead of writing a file.
            var result = await CommandRunner.RunAsync(htpasswd, ["-Bbn", user, password], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            lines.Add(result.StandardOutput.Trim());
        }
        await File.WriteAllTextAsync(path, string.Join('\n', lines) + "\n", cancellationToken).ConfigureAwait(false);
    }
}
