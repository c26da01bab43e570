namespace CriOci.TestSupport;

/// <summary>
/// The Go SPDY clients in GoSpdy/ (spdyexec, spdyportforward), built against Debian's
/// github.com/docker/spdystream, the SPDY library under kubelet, kubectl and crictl. Each is
/// built once per test run; a missing go toolchain or library fails the build with the
/// packages to install (scripts/install-test-deps.sh installs them).
/// </summary>
public static class GoSpdyClients
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static readonly Dictionary<string, string> s_binaries = [];

    /// <summary>The path of the built GoSpdy/<paramref name="program"/>.go.</summary>
    public static async Task<string> BuildAsync(string program)
    {
        await BuildLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (s_binaries.TryGetValue(program, out var built))
            {
                return built;
            }
            var output = Directory.CreateTempSubdirectory($"crioci-{program}-").FullName;
            var binary = Path.Combine(output, program);
            var source = Path.Combine(AppContext.BaseDirectory, "GoSpdy", program + ".go");
            // Debian installs Go library sources under /usr/share/gocode (GOPATH layout, no modules).
            var environment = new Dictionary<string, string?>
            {
                ["GOPATH"] = "/usr/share/gocode",
                ["GO111MODULE"] = "off",
                ["GOCACHE"] = Path.Combine(output, "cache"),
                ["GOFLAGS"] = "",
            };
            var result = await CommandRunner.RunUncheckedAsync("go", ["build", "-o", binary, source], environment: environment).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(
                    $"go build {program}.go failed ({result.ExitCode}); it needs golang-go and golang-github-docker-spdystream-dev: {result.StandardError}");
            }
            return s_binaries[program] = binary;
        }
        finally
        {
            BuildLock.Release();
        }
    }
}
