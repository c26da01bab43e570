using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// Layer archives an attacker would push: entries that climb out with "..", absolute names,
/// symbolic links followed by entries written through them, hard links to files outside,
/// device nodes, whiteouts in odd places, overlay xattrs, in every tar format; then sometimes
/// cut short, with bytes flipped, or gzip-compressed.
/// </summary>
internal sealed class HostileTar(string escapeName, string sandboxCanaryPath)
{
    private static readonly TarEntryType[] Types =
    [
        TarEntryType.Directory, TarEntryType.RegularFile, TarEntryType.RegularFile, TarEntryType.SymbolicLink, TarEntryType.SymbolicLink,
        TarEntryType.HardLink, TarEntryType.HardLink, TarEntryType.CharacterDevice, TarEntryType.BlockDevice, TarEntryType.Fifo,
    ];

    private static readonly TarEntryFormat[] Formats = [TarEntryFormat.Pax, TarEntryFormat.Gnu, TarEntryFormat.Ustar, TarEntryFormat.V7];

    private static readonly string[] XattrNames =
        ["user.fuzz", "trusted.overlay.opaque", "trusted.overlay.redirect", "security.capability", "", "user." + new string('x', 300)];

    private string[] Names =>
    [
        "a", "a/b", "dir", "dir/file", "dir/sub/file", "link", "link/file", "link/sub/file", "hard", "dev", "fifo",
        ".", "./", "..", "../", "/", "//", "./a", "a/./b", "a//b", "a/..", "a/../..",
        $"../{escapeName}", $"../../{escapeName}", $"../../../{escapeName}", $"a/../../{escapeName}", $"/../{escapeName}",
        $"/{escapeName}", $"{sandboxCanaryPath}", $"/proc/self/{escapeName}",
        ".wh.a", ".wh.dir", ".wh..wh..opq", "dir/.wh..wh..opq", "dir/.wh.file", ".wh.", ".wh..", ".wh...", ".wh..wh.plnk",
        new string('n', 255), new string('n', 256), string.Join('/', Enumerable.Repeat("deep", 60)),
        "nul\0name", "caf\u00e9", "tab\tname", "newline\nname",
    ];

    private string[] LinkTargets =>
    [
        "", "/", ".", "..", "../", "a", "dir", "dir/file", "link", "link/file", "hard", "nonexistent",
        $"../{escapeName}", $"../../{escapeName}", "../../../..", "/etc/passwd", "/etc", sandboxCanaryPath, "../canary", "/proc/self/root",
        "a/../../..", new string('t', 5000),
    ];

    /// <summary>A layer blob and the diff ID the image config would give for it.</summary>
    public (byte[] Blob, byte[] Uncompressed) Next(Random random)
    {
        var tar = Build(random);
        switch (random.Next(6))
        {
            case 0:
                tar = tar.AsSpan(0, random.Next(tar.Length + 1)).ToArray();
                break;
            case 1:
                for (var flips = random.Next(1, 8); flips > 0 && tar.Length > 0; flips--)
                {
                    tar[random.Next(tar.Length)] ^= (byte)(1 << random.Next(8));
                }
                break;
            case 2:
                var noise = new byte[random.Next(1, 2048)];
                random.NextBytes(noise);
                tar = [.. tar, .. noise];
                break;
        }
        if (random.Next(4) != 0)
        {
            return (tar, tar);
        }
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }
        var blob = compressed.ToArray();
        if (random.Next(3) == 0 && blob.Length > 0)
        {
            blob = random.Next(2) == 0 ? blob.AsSpan(0, random.Next(blob.Length)).ToArray() : Flip(random, blob);
        }
        return (blob, tar);
    }

    private static byte[] Flip(Random random, byte[] bytes)
    {
        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        return bytes;
    }

    private byte[] Build(Random random)
    {
        using var archive = new MemoryStream();
        var format = Formats[random.Next(Formats.Length)];
        using (var writer = new TarWriter(archive, format, leaveOpen: true))
        {
            var entries = random.Next(1, 25);
            for (var i = 0; i < entries; i++)
            {
                // The writer refuses some combinations (a name too long for the format); that
                // entry is simply left out, the archive goes on.
                try
                {
                    writer.WriteEntry(Entry(random, format));
                }
                catch (ArgumentException)
                {
                }
            }
            if (format == TarEntryFormat.Pax && random.Next(5) == 0)
            {
                writer.WriteEntry(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = "fuzz" }));
            }
        }
        return archive.ToArray();
    }

    private TarEntry Entry(Random random, TarEntryFormat format)
    {
        var names = Names;
        var type = Types[random.Next(Types.Length)];
        if (format == TarEntryFormat.V7 && type is TarEntryType.RegularFile)
        {
            type = TarEntryType.V7RegularFile;
        }
        if (format == TarEntryFormat.V7 && type is TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo)
        {
            type = TarEntryType.Directory;
        }
        var name = names[random.Next(names.Length)];
        TarEntry entry = format switch
        {
            TarEntryFormat.Pax => new PaxTarEntry(type, name, Xattrs(random)),
            TarEntryFormat.Gnu => new GnuTarEntry(type, name),
            TarEntryFormat.Ustar => new UstarTarEntry(type, name),
            _ => new V7TarEntry(type, name),
        };
        entry.Mode = (UnixFileMode)random.Next(0, 0x1000);
        entry.Uid = random.Next(3) == 0 ? random.Next(0, 70000) : 0;
        entry.Gid = random.Next(3) == 0 ? random.Next(0, 70000) : 0;
        entry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(random.NextInt64(0, 4_000_000_000));
        var targets = LinkTargets;
        switch (type)
        {
            case TarEntryType.SymbolicLink or TarEntryType.HardLink:
                entry.LinkName = random.Next(3) == 0 ? names[random.Next(names.Length)] : targets[random.Next(targets.Length)];
                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                var data = new byte[random.Next(4) == 0 ? random.Next(0, 70_000) : random.Next(0, 64)];
                random.NextBytes(data);
                entry.DataStream = new MemoryStream(data);
                break;
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice when entry is PosixTarEntry posix:
                posix.DeviceMajor = random.Next(0, 300);
                posix.DeviceMinor = random.Next(0, 300);
                break;
        }
        return entry;
    }

    private static Dictionary<string, string> Xattrs(Random random)
    {
        var xattrs = new Dictionary<string, string>();
        if (random.Next(3) == 0)
        {
            var name = XattrNames[random.Next(XattrNames.Length)];
            xattrs["SCHILY.xattr." + name] = random.Next(2) == 0 ? "y" : Encoding.Latin1.GetString([(byte)random.Next(256), 0xff, 0x00]);
        }
        return xattrs;
    }
}
