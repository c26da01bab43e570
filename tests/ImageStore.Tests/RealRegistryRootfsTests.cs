using System.Globalization;
using System.Security.Cryptography;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.ImageStore.Unpack.Interop;
using CriOci.TestSupport;

namespace CriOci.ImageStore.Tests;

/// <summary>
/// What a container sees (the pulled layers as a read-only overlay mount, whiteouts applied
/// by the kernel) must equal what umoci unpacks from the same OCI layout: every path, its type,
/// permission bits (setuid, setgid, sticky), owner, link target, device numbers, file content
/// and file modification time.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class RealRegistryRootfsTests(RegistryFixture fixture) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly TempDirectory root = new();
    private readonly TempDirectory work = new();

    public void Dispose()
    {
        root.Dispose();
        work.Dispose();
    }

    [Theory]
    [InlineData(TestImages.LayeredTag)]
    [InlineData(TestImages.LatestTag)]
    public async Task PullAsync_BusyboxImage_OverlayOfLayersMatchesUmociUnpack(string tag)
    {
        // Arrange
        var pushed = tag == TestImages.LayeredTag ? fixture.BusyboxLayered : fixture.BusyboxLatest;
        var layout = await TestImages.EnsureLayoutAsync();
        var bundle = work.Combine("bundle");
        await CommandRunner.RunAsync(TestDependencies.RequireUmoci(), ["unpack", "--image", $"{layout}:{tag}", bundle], TimeSpan.FromMinutes(2));
        var expected = Describe(Path.Combine(bundle, "rootfs"));
        var service = ImageServiceFactory.Create(new ImageStoreOptions(root.Path, []));
        var image = await service.PullAsync(pushed.Reference, null, CancellationToken.None);
        var layers = service.GetLayerDirectories(image);
        var merged = work.Combine("merged");
        Directory.CreateDirectory(merged);
        // overlayfs wants two lower directories at least when there is no upper one.
        var lower = layers.Count > 1 ? string.Join(':', layers) : $"{layers[0]}:{work.Combine("empty")}";
        Directory.CreateDirectory(work.Combine("empty"));

        // Act
        await CommandRunner.RunAsync("mount", ["-t", "overlay", "overlay", "-o", $"ro,lowerdir={lower}", merged], TimeSpan.FromSeconds(30));
        Dictionary<string, string> actual;
        try
        {
            actual = Describe(merged);
        }
        finally
        {
            await CommandRunner.RunAsync("umount", [merged], TimeSpan.FromSeconds(30));
        }

        // Assert
        var missing = expected.Keys.Except(actual.Keys).Order(StringComparer.Ordinal).ToList();
        var extra = actual.Keys.Except(expected.Keys).Order(StringComparer.Ordinal).ToList();
        var different = expected.Keys.Intersect(actual.Keys)
            .Where(path => expected[path] != actual[path])
            .Select(path => $"{path}: umoci {expected[path]} / crioci {actual[path]}")
            .ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"missing: {string.Join(", ", missing.Take(20))}\nextra: {string.Join(", ", extra.Take(20))}\ndifferent:\n{string.Join("\n", different.Take(20))}");
        Assert.True(expected.Count > 100, $"only {expected.Count} entries: the comparison saw too little");
        if (tag == TestImages.LayeredTag)
        {
            Assert.DoesNotContain(TestImages.LayeredRemovedPath, actual.Keys);
            Assert.Contains(TestImages.LayeredAddedFilePath, actual.Keys);
        }
    }

    /// <summary>Path (from "/") to type, mode, owner and content, never following links; directory times are left out.</summary>
    private static Dictionary<string, string> Describe(string top)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = new Stack<string>([top]);
        while (pending.TryPop(out var directory))
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(directory))
            {
                var status = Syscalls.Lstat(path) ?? throw new InvalidOperationException($"{path} vanished");
                var relative = "/" + Path.GetRelativePath(top, path);
                var common = string.Create(CultureInfo.InvariantCulture, $"{Convert.ToString((int)status.Permissions, 8)} {status.Uid}:{status.Gid}");
                result[relative] = status.Type switch
                {
                    _ when status.IsDirectory => $"dir {common}",
                    _ when status.IsSymbolicLink => $"symlink {common} -> {new FileInfo(path).LinkTarget}",
                    _ when status.IsRegularFile => string.Create(CultureInfo.InvariantCulture,
                        $"file {common} {status.Size} {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))} mtime {status.ModificationSeconds}"),
                    _ => string.Create(CultureInfo.InvariantCulture, $"type {status.Type:x} {common} dev {status.DeviceMajor}:{status.DeviceMinor}"),
                };
                if (status.IsDirectory)
                {
                    pending.Push(path);
                }
            }
        }
        return result;
    }
}
