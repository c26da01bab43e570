using System.Formats.Tar;
using System.Text;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Tests.Fixtures;
using CriOci.ImageStore.Unpack;
using CriOci.ImageStore.Unpack.Interop;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.ImageStore.Tests.Unpack;

/// <summary>
/// Unpacks crafted tars. Needs root (mknod, lchown, trusted.* xattrs). Escape attempts point
/// at a sibling "outside" directory, never at the host's /etc, so a regression cannot damage
/// the machine running the tests.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class LayerUnpackerTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly string layer;
    private readonly string outside;

    public LayerUnpackerTests()
    {
        layer = temp.Combine("layer");
        outside = temp.Combine("outside");
        Directory.CreateDirectory(layer);
        Directory.CreateDirectory(outside);
    }

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task UnpackAsync_Whiteout_BecomesZeroZeroCharacterDevice()
    {
        // Arrange
        var tar = new LayerBuilder().Directory("etc/").File("etc/.wh.removed", "", uid: 0).BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        var status = Syscalls.Lstat(Path.Combine(layer, "etc", "removed"));
        Assert.NotNull(status);
        Assert.True(status.Value.IsCharacterDevice);
        Assert.Equal(0u, status.Value.DeviceMajor);
        Assert.Equal(0u, status.Value.DeviceMinor);
        Assert.False(File.Exists(Path.Combine(layer, "etc", ".wh.removed")));
    }

    [Fact]
    public async Task UnpackAsync_OpaqueMarker_SetsOverlayOpaqueXattrOnDirectory()
    {
        // Arrange
        var tar = new LayerBuilder().Directory("var/cache/").File("var/cache/.wh..wh..opq", "").File("var/cache/new", "x").BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        Assert.Equal("y"u8.ToArray(), Syscalls.Lgetxattr(Path.Combine(layer, "var", "cache"), "trusted.overlay.opaque"));
        Assert.Null(Syscalls.Lgetxattr(Path.Combine(layer, "var"), "trusted.overlay.opaque"));
        Assert.False(File.Exists(Path.Combine(layer, "var", "cache", ".wh..wh..opq")));
        Assert.True(File.Exists(Path.Combine(layer, "var", "cache", "new")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs/../../escape")]
    [InlineData("a/../../escape")]
    [InlineData("./../escape")]
    public async Task UnpackAsync_EntryClimbingOutOfLayer_IsRefusedNamingIt(string name)
    {
        // Arrange
        var tar = new LayerBuilder().File(name, "pwned").BuildTar();

        // Act
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));

        // Assert
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.Combine("escape")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(temp.Path)!, "escape")));
    }

    [Theory]
    [InlineData("/abs/file", "abs/file")]
    [InlineData("/abs/../file", "file")]
    [InlineData("./dir/./sub/../file", "dir/file")]
    public async Task UnpackAsync_AbsoluteOrDottedName_LandsInsideLayer(string name, string expected)
    {
        // Arrange
        var tar = new LayerBuilder().File(name, "inside").BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        Assert.Equal("inside", await File.ReadAllTextAsync(Path.Combine(layer, expected)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UnpackAsync_WriteThroughSymlink_IsRefusedAndNothingWrittenOutside(bool absoluteLink)
    {
        // Arrange: "a -> <outside>" (the /etc attack, aimed at a harmless directory), then "a/passwd".
        var target = absoluteLink ? outside : "../outside";
        var tar = new LayerBuilder().Symlink("a", target).File("a/passwd", "root::0:0::/:/bin/sh").BuildTar();

        // Act
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));

        // Assert
        Assert.Contains("a/passwd", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task UnpackAsync_DirectoryThroughSymlink_IsRefused()
    {
        // Arrange
        var tar = new LayerBuilder().Symlink("lib", outside).Directory("lib/evil/").BuildTar();

        // Act + Assert
        await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task UnpackAsync_FileReplacingSymlink_ReplacesLinkNotTarget()
    {
        // Arrange
        var victim = Path.Combine(outside, "victim");
        await File.WriteAllTextAsync(victim, "original");
        var tar = new LayerBuilder().Symlink("x", victim).File("x", "new content").BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        Assert.Equal("original", await File.ReadAllTextAsync(victim));
        var status = Syscalls.Lstat(Path.Combine(layer, "x"));
        Assert.True(status!.Value.IsRegularFile);
        Assert.Equal("new content", await File.ReadAllTextAsync(Path.Combine(layer, "x")));
    }

    [Theory]
    [InlineData("../outside/secret")]
    [InlineData("/../outside/secret")]
    public async Task UnpackAsync_HardLinkToOutside_IsRefused(string linkTarget)
    {
        // Arrange
        await File.WriteAllTextAsync(Path.Combine(outside, "secret"), "secret");
        var tar = new LayerBuilder().HardLink("stolen", linkTarget).BuildTar();

        // Act
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));

        // Assert
        Assert.Contains("stolen", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(layer, "stolen")));
        Assert.Equal(1u, Syscalls.Lstat(Path.Combine(outside, "secret"))!.Value.LinkCount);
    }

    [Fact]
    public async Task UnpackAsync_HardLinkToAbsolutePathMissingInLayer_IsRefused()
    {
        // Arrange: "/etc/passwd" means the layer's etc/passwd, which this layer lacks.
        var tar = new LayerBuilder().HardLink("stolen", "/etc/passwd").BuildTar();

        // Act + Assert
        await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));
        Assert.False(File.Exists(Path.Combine(layer, "stolen")));
    }

    [Fact]
    public async Task UnpackAsync_HardLinkThroughSymlink_IsRefused()
    {
        // Arrange
        await File.WriteAllTextAsync(Path.Combine(outside, "secret"), "secret");
        var tar = new LayerBuilder().Symlink("out", outside).HardLink("stolen", "out/secret").BuildTar();

        // Act + Assert
        await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));
        Assert.Equal(1u, Syscalls.Lstat(Path.Combine(outside, "secret"))!.Value.LinkCount);
    }

    [Fact]
    public async Task UnpackAsync_HardLinkInsideLayer_SharesInode()
    {
        // Arrange
        var tar = new LayerBuilder().File("bin/busybox", "binary").HardLink("bin/sh", "bin/busybox").HardLink("/bin/ls", "/bin/busybox").BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        var original = Syscalls.Lstat(Path.Combine(layer, "bin", "busybox"))!.Value;
        Assert.Equal(3u, original.LinkCount);
        Assert.Equal(original.Inode, Syscalls.Lstat(Path.Combine(layer, "bin", "sh"))!.Value.Inode);
        Assert.Equal(original.Inode, Syscalls.Lstat(Path.Combine(layer, "bin", "ls"))!.Value.Inode);
    }

    [Fact]
    public async Task UnpackAsync_ModesOwnersAndTimes_ArePreserved()
    {
        // Arrange
        var fileTime = new DateTimeOffset(2010, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234500);
        var directoryTime = new DateTimeOffset(2012, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var setuid = (UnixFileMode)Convert.ToInt32("4755", 8);
        var sticky = (UnixFileMode)Convert.ToInt32("1777", 8);
        var setgidDir = (UnixFileMode)Convert.ToInt32("2750", 8);
        var tar = new LayerBuilder()
            .Directory("tmp/", sticky, time: directoryTime)
            .Directory("srv/", setgidDir, uid: 33, gid: 34, time: directoryTime)
            .File("srv/data", "d", (UnixFileMode)Convert.ToInt32("640", 8), uid: 33, gid: 34)
            .File("usr/bin/su", "su", setuid, uid: 1000, gid: 1001, time: fileTime)
            .Symlink("usr/bin/link", "su", uid: 5, gid: 6)
            .BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        var su = Syscalls.Lstat(Path.Combine(layer, "usr", "bin", "su"))!.Value;
        Assert.Equal(setuid, su.Permissions);
        Assert.Equal((1000u, 1001u), (su.Uid, su.Gid));
        Assert.Equal(fileTime.ToUnixTimeSeconds(), su.ModificationSeconds);
        Assert.Equal(123450000u, su.ModificationNanoseconds);

        var tmp = Syscalls.Lstat(Path.Combine(layer, "tmp"))!.Value;
        Assert.Equal(sticky, tmp.Permissions);
        Assert.Equal(directoryTime.ToUnixTimeSeconds(), tmp.ModificationSeconds);

        var srv = Syscalls.Lstat(Path.Combine(layer, "srv"))!.Value;
        Assert.Equal(setgidDir, srv.Permissions);
        Assert.Equal((33u, 34u), (srv.Uid, srv.Gid));
        // Written into after its entry, yet the tar's time wins.
        Assert.Equal(directoryTime.ToUnixTimeSeconds(), srv.ModificationSeconds);

        var link = Syscalls.Lstat(Path.Combine(layer, "usr", "bin", "link"))!.Value;
        Assert.True(link.IsSymbolicLink);
        Assert.Equal((5u, 6u), (link.Uid, link.Gid));
        Assert.Equal("su", new FileInfo(Path.Combine(layer, "usr", "bin", "link")).LinkTarget);

        var implicitParent = Syscalls.Lstat(Path.Combine(layer, "usr"))!.Value;
        Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), implicitParent.Permissions);
    }

    [Fact]
    public async Task UnpackAsync_DevicesAndFifo_AreCreatedWithNumbers()
    {
        // Arrange
        var tar = new LayerBuilder()
            .Device("dev/null", TarEntryType.CharacterDevice, 1, 3)
            .Device("dev/loop0", TarEntryType.BlockDevice, 7, 0)
            .Device("dev/big", TarEntryType.CharacterDevice, 4095, 1048575)
            .Fifo("run/pipe")
            .BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        var devNull = Syscalls.Lstat(Path.Combine(layer, "dev", "null"))!.Value;
        Assert.True(devNull.IsCharacterDevice);
        Assert.Equal((1u, 3u), (devNull.DeviceMajor, devNull.DeviceMinor));
        Assert.Equal((UnixFileMode)Convert.ToInt32("666", 8), devNull.Permissions);
        var loop = Syscalls.Lstat(Path.Combine(layer, "dev", "loop0"))!.Value;
        Assert.Equal(LibC.S_IFBLK, loop.Type);
        Assert.Equal((7u, 0u), (loop.DeviceMajor, loop.DeviceMinor));
        var big = Syscalls.Lstat(Path.Combine(layer, "dev", "big"))!.Value;
        Assert.Equal((4095u, 1048575u), (big.DeviceMajor, big.DeviceMinor));
        Assert.Equal(LibC.S_IFIFO, Syscalls.Lstat(Path.Combine(layer, "run", "pipe"))!.Value.Type);
    }

    [Fact]
    public async Task UnpackAsync_PaxXattrs_AreApplied()
    {
        // Arrange
        var tar = new LayerBuilder()
            .File("f", "x", paxAttributes: [new("SCHILY.xattr.user.comment", "hello"), new("SCHILY.xattr.trusted.overlay.redirect", "/evil")])
            .BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        var path = Path.Combine(layer, "f");
        Assert.Equal("hello"u8.ToArray(), Syscalls.Lgetxattr(path, "user.comment"));
        Assert.Null(Syscalls.Lgetxattr(path, "trusted.overlay.redirect"));
    }

    [Fact]
    public async Task UnpackAsync_LaterEntries_ReplaceEarlierOnes()
    {
        // Arrange
        var tar = new LayerBuilder()
            .Directory("d/").File("d/child", "c")
            .File("d", "now a file")
            .File("f", "first").File("f", "second")
            .BuildTar();

        // Act
        await UnpackAsync(tar);

        // Assert
        Assert.Equal("now a file", await File.ReadAllTextAsync(Path.Combine(layer, "d")));
        Assert.Equal("second", await File.ReadAllTextAsync(Path.Combine(layer, "f")));
    }

    [Fact]
    public async Task UnpackAsync_EntryBelowRegularFile_IsRefused()
    {
        // Arrange
        var tar = new LayerBuilder().File("f", "file").File("f/child", "x").BuildTar();

        // Act + Assert
        await Assert.ThrowsAsync<InvalidArgumentException>(() => UnpackAsync(tar));
    }

    [Fact]
    public async Task UnpackAsync_DiffIdMismatch_ThrowsFailedPrecondition()
    {
        // Arrange
        var tar = new LayerBuilder().File("f", "x").BuildTar();
        var blob = temp.Combine("blob");
        await File.WriteAllBytesAsync(blob, tar);
        var wrongDiffId = Digest.ComputeSha256(Encoding.UTF8.GetBytes("something else"));

        // Act
        var error = await Assert.ThrowsAsync<FailedPreconditionException>(
            () => new LayerUnpacker(NullLogger.Instance).UnpackAsync(blob, layer, wrongDiffId, "test layer", CancellationToken.None));

        // Assert
        Assert.Contains(wrongDiffId.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("none")]
    public async Task UnpackAsync_Compression_IsDetectedFromContent(string compression)
    {
        // Arrange
        var tar = new LayerBuilder().File("hello", "world").BuildTar();
        var blob = compression switch
        {
            "gzip" => LayerBuilder.Gzip(tar),
            "zstd" => Zstd(tar),
            _ => tar,
        };

        // Act
        await UnpackAsync(tar, blob);

        // Assert
        Assert.Equal("world", await File.ReadAllTextAsync(Path.Combine(layer, "hello")));
    }

    [Fact]
    public async Task UnpackAsync_CorruptGzip_ThrowsFailedPrecondition()
    {
        // Arrange
        var tar = new LayerBuilder().File("hello", "world").BuildTar();
        var blob = LayerBuilder.Gzip(tar);
        blob[blob.Length / 2] ^= 0xff;

        // Act + Assert
        await Assert.ThrowsAsync<FailedPreconditionException>(() => UnpackAsync(tar, blob));
    }

    private Task UnpackAsync(byte[] tar) => UnpackAsync(tar, LayerBuilder.Gzip(tar));

    private async Task UnpackAsync(byte[] tar, byte[] blob)
    {
        var blobPath = temp.Combine("blob");
        await File.WriteAllBytesAsync(blobPath, blob);
        var diffId = Digest.Parse(LayerBuilder.Sha256(tar));
        await new LayerUnpacker(NullLogger.Instance).UnpackAsync(blobPath, layer, diffId, "test layer", CancellationToken.None);
    }

    private static byte[] Zstd(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(output, level: 3, leaveOpen: true))
        {
            zstd.Write(data);
        }
        return output.ToArray();
    }
}
