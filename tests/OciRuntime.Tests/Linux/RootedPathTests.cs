using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.OciRuntime.Tests.Linux;

/// <summary>
/// Real symlinks in a real temporary rootfs: whatever the image's links say, RootedPath must
/// create and open things inside the rootfs only. Layout: TEMP/outer/bundle/rootfs, so a
/// "../../.." link from the rootfs would reach TEMP if it were followed on the host.
/// </summary>
public sealed class RootedPathTests : IDisposable
{
    private readonly string _temp;
    private readonly string _outer;
    private readonly string _rootfs;
    private readonly string _name = "crioci-escape-" + Guid.NewGuid().ToString("N");

    public RootedPathTests()
    {
        _temp = Directory.CreateTempSubdirectory("crioci-rooted-").FullName;
        _outer = Path.Combine(_temp, "outer");
        _rootfs = Path.Combine(_outer, "bundle", "rootfs");
        Directory.CreateDirectory(_rootfs);
    }

    public void Dispose()
    {
        Directory.Delete(_temp, recursive: true);
        // A failed test might have escaped to the host root: never leave that behind.
        if (Directory.Exists("/" + _name))
        {
            Directory.Delete("/" + _name, recursive: true);
        }
        File.Delete("/" + _name);
    }

    /// <summary>Where the kernel says a descriptor points, then closes it.</summary>
    private static string TargetAndClose(int fd)
    {
        Assert.True(fd >= 0, $"expected a descriptor, got {fd}");
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return new FileInfo(RootedPath.ProcFdPath(fd)).LinkTarget!;
    }

    private void AssertNothingOutside(string name)
    {
        foreach (var place in new[] { "/", _temp, _outer, Path.Combine(_outer, "bundle") })
        {
            Assert.False(Path.Exists(Path.Combine(place, name)), $"{name} escaped the rootfs into {place}");
        }
    }

    [Fact]
    public void CreateDirectory_NestedMissingPath_CreatesEveryLevelInsideRootfs()
    {
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateDirectory("/a/b/c"));

        Assert.Equal(Path.Combine(_rootfs, "a", "b", "c"), target);
        Assert.True(Directory.Exists(Path.Combine(_rootfs, "a", "b", "c")));
    }

    [Fact]
    public void CreateDirectory_Existing_ReturnsIt()
    {
        Directory.CreateDirectory(Path.Combine(_rootfs, "proc"));
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateDirectory("/proc"));

        Assert.Equal(Path.Combine(_rootfs, "proc"), target);
    }

    [Fact]
    public void CreateDirectory_ThroughAbsoluteSymlinkToSlash_StaysInsideRootfs()
    {
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc"), "/");
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateDirectory($"/etc/{_name}/sub"));

        Assert.Equal(Path.Combine(_rootfs, _name, "sub"), target);
        Assert.True(Directory.Exists(Path.Combine(_rootfs, _name, "sub")));
        AssertNothingOutside(_name);
    }

    [Fact]
    public void CreateDirectory_ThroughDotDotSymlink_StaysInsideRootfs()
    {
        File.CreateSymbolicLink(Path.Combine(_rootfs, "evil"), "../../..");
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateDirectory($"/evil/{_name}"));

        Assert.Equal(Path.Combine(_rootfs, _name), target);
        AssertNothingOutside(_name);
    }

    [Fact]
    public void CreateDirectory_DotDotInThePath_IsClampedAtTheRoot()
    {
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateDirectory($"/../../../{_name}"));

        Assert.Equal(Path.Combine(_rootfs, _name), target);
        AssertNothingOutside(_name);
    }

    [Fact]
    public void CreateFile_ThroughSymlinkedParent_StaysInsideRootfs()
    {
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc"), "../../..");
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateFile($"/etc/{_name}"));

        Assert.Equal(Path.Combine(_rootfs, _name), target);
        Assert.True(File.Exists(Path.Combine(_rootfs, _name)));
        AssertNothingOutside(_name);
    }

    [Fact]
    public void CreateFile_DanglingAbsoluteSymlink_CreatesItsTargetInsideRootfs()
    {
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc", "hostname"), "/" + _name);
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.CreateFile("/etc/hostname"));

        Assert.Equal(Path.Combine(_rootfs, _name), target);
        AssertNothingOutside(_name);
    }

    [Fact]
    public void CreateFile_DanglingSymlinkToHostDirectory_CreatesNothingOnTheHost()
    {
        // The host has the directory the link names; the rootfs does not.
        var hostDirectory = Path.Combine(_temp, "host-run");
        Directory.CreateDirectory(hostDirectory);
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc", "resolv.conf"), Path.Combine(hostDirectory, "resolv.conf"));
        using var root = new RootedPath(_rootfs);

        var exception = Record.Exception(() => TargetAndClose(root.CreateFile("/etc/resolv.conf")));

        // Refusing is safe; creating the host's file is the escape.
        Assert.False(File.Exists(Path.Combine(hostDirectory, "resolv.conf")), "the file was created on the host");
        Assert.True(exception is null or SyscallException, $"unexpected {exception}");
    }

    [Fact]
    public void CreateFile_DanglingSymlinkIntoMissingDirectory_CreatesTargetInsideRootfs()
    {
        // Images ship links such as /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf
        // whose directory exists only at run time. runc (securejoin + MkdirAll) creates the
        // link's target inside the rootfs and mounts there; the mount must not fail with ENOENT.
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc", "resolv.conf"), "../run/systemd/resolve/stub-resolv.conf");
        using var root = new RootedPath(_rootfs);

        var exception = Record.Exception(() =>
        {
            var target = TargetAndClose(root.CreateFile("/etc/resolv.conf"));
            Assert.Equal(Path.Combine(_rootfs, "run", "systemd", "resolve", "stub-resolv.conf"), target);
        });

        Assert.Null(exception);
    }

    [Fact]
    public void CreateDirectory_DanglingSymlinkIntoMissingDirectory_CreatesTargetInsideRootfs()
    {
        // Same as above for a directory mount point (a volume mounted where the image has a
        // link to a directory it does not ship).
        File.CreateSymbolicLink(Path.Combine(_rootfs, "data"), $"/{_name}/data");
        using var root = new RootedPath(_rootfs);

        var exception = Record.Exception(() =>
        {
            var target = TargetAndClose(root.CreateDirectory("/data"));
            Assert.Equal(Path.Combine(_rootfs, _name, "data"), target);
        });

        AssertNothingOutside(_name);
        Assert.Null(exception);
    }

    [Fact]
    public void TryOpen_SymlinkToHostFile_DoesNotOpenTheHostFile()
    {
        var hostFile = Path.Combine(_temp, "host-secret");
        File.WriteAllText(hostFile, "secret\n");
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc", "passwd"), hostFile);
        using var root = new RootedPath(_rootfs);

        var fd = root.TryOpen("/etc/passwd");

        Assert.Equal(-1, fd);
    }

    [Fact]
    public void TryOpen_SymlinkToHostPathThatAlsoExistsInRootfs_OpensTheRootfsCopy()
    {
        var hostFile = Path.Combine(_temp, "host-secret");
        File.WriteAllText(hostFile, "secret\n");
        var copyInRootfs = Path.Combine(_rootfs, hostFile.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(copyInRootfs)!);
        File.WriteAllText(copyInRootfs, "image\n");
        File.CreateSymbolicLink(Path.Combine(_rootfs, "passwd-link"), "../../../.." + hostFile);
        using var root = new RootedPath(_rootfs);

        var target = TargetAndClose(root.TryOpen("/passwd-link"));

        Assert.Equal(copyInRootfs, target);
    }

    [Fact]
    public void TryOpen_Missing_ReturnsMinusOne()
    {
        using var root = new RootedPath(_rootfs);

        Assert.Equal(-1, root.TryOpen("/no/such/file"));
    }

    [Fact]
    public void Relative_AbsolutePath_DropsLeadingSlashes()
    {
        Assert.Equal("etc/hosts", RootedPath.Relative("//etc/hosts"));
        Assert.Equal("", RootedPath.Relative("/"));
    }
}
