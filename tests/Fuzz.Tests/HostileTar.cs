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
        if (random.Next(3) == 0)
        {
            RewriteHeaders(random, tar);
        }
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

    /// <summary>
    /// Changes fields of headers that TarWriter would never write (an empty link name, a
    /// type flag that does not match the data, a size past the end) and then fixes the header
    /// checksum, so the reader accepts the header and the unpacker has to deal with it.
    /// </summary>
    private void RewriteHeaders(Random random, byte[] tar)
    {
        var headers = new List<int>();
        for (var offset = 0; offset + 512 <= tar.Length; offset += 512)
        {
            if (tar.AsSpan(offset + 257, 5).SequenceEqual("ustar"u8))
            {
                headers.Add(offset);
            }
        }
        for (var changes = random.Next(1, 4); changes > 0 && headers.Count > 0; changes--)
        {
            var header = tar.AsSpan(headers[random.Next(headers.Count)], 512);
            switch (random.Next(5))
            {
                case 0:
                    header[156] = (byte)"0123456789LKxgSV\0Z"[random.Next(18)];
                    break;
                case 1:
                    WriteField(header.Slice(157, 100), random.Next(2) == 0 ? "" : LinkTargets[random.Next(LinkTargets.Length)]);
                    break;
                case 2:
                    WriteField(header[..100], Names[random.Next(Names.Length)]);
                    break;
                case 3:
                    WriteField(header.Slice(124, 12), random.Next(2) == 0 ? "77777777777" : Convert.ToString(random.Next(0, 100_000), 8));
                    break;
                default:
                    WriteField(header.Slice(100, 8), Convert.ToString(random.Next(0, 0x10000), 8));
                    break;
            }
            FixChecksum(header);
        }
    }

    /// <summary>A NUL-padded header field; what does not fit is cut.</summary>
    internal static void WriteField(Span<byte> field, string value)
    {
        field.Clear();
        var bytes = Encoding.UTF8.GetBytes(value);
        bytes.AsSpan(0, Math.Min(bytes.Length, field.Length)).CopyTo(field);
    }

    /// <summary>The POSIX header checksum: every byte summed with the checksum field read as spaces.</summary>
    internal static void FixChecksum(Span<byte> header)
    {
        header.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in header)
        {
            sum += b;
        }
        var text = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
        text.CopyTo(header.Slice(148, 8));
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
