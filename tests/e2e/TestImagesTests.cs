using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// Proves the busybox test images are runnable, independently of CriOci: unpack with umoci and
/// run busybox in a chroot. Needs root for chroot.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class TestImagesTests
{
    public static TheoryData<string, string, string> ChrootCases => new()
    {
        // tag, shell script, expected stdout
        { TestImages.LatestTag, "echo hello; id -u; test -x /bin/wc && echo has-wc; grep -c . /etc/passwd", "hello\n0\nhas-wc\n2\n" },
        { TestImages.LayeredTag, "cat /layer2.txt; test -e /bin/wc || echo no-wc", "second layer\nno-wc\n" },
    };

    [Theory]
    [MemberData(nameof(ChrootCases))]
    public async Task EnsureLayoutAsync_UnpackedImage_RunsBusyboxInChroot(string tag, string script, string expectedStdout)
    {
        // Arrange
        Assert.True(TestDependencies.IsRoot, "this Privileged test needs root (chroot and umoci unpack without --rootless)");
        var layout = await TestImages.EnsureLayoutAsync();
        var bundle = Path.Combine(Directory.CreateTempSubdirectory("crioci-e2e-unpack-").FullName, "bundle");
        try
        {
            await CommandRunner.RunAsync(TestDependencies.UmociPath, ["unpack", "--image", $"{layout}:{tag}", bundle]);

            // Act
            var result = await CommandRunner.RunAsync(
                "/usr/sbin/chroot",
                [Path.Combine(bundle, "rootfs"), "/bin/sh", "-c", script],
                environment: new Dictionary<string, string?> { ["PATH"] = TestImages.PathEnvironment["PATH=".Length..] });

            // Assert
            Assert.Equal(expectedStdout, result.StandardOutput);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bundle)!, recursive: true);
        }
    }
}
