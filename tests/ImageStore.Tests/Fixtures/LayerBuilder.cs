using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace CriOci.ImageStore.Tests.Fixtures;

/// <summary>Builds layer tars in memory with TarWriter (PAX), plain or gzip-compressed.</summary>
internal sealed class LayerBuilder
{
    public static readonly DateTimeOffset DefaultTime = new(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

    private readonly List<TarEntry> entries = [];

    public LayerBuilder Directory(string name, UnixFileMode mode = (UnixFileMode)0b111_101_101, int uid = 0, int gid = 0, DateTimeOffset? time = null) =>
        Add(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, Uid = uid, Gid = gid, ModificationTime = time ?? DefaultTime });

    public LayerBuilder File(string name, string content, UnixFileMode mode = (UnixFileMode)0b110_100_100, int uid = 0, int gid = 0,
        DateTimeOffset? time = null, IEnumerable<KeyValuePair<string, string>>? paxAttributes = null)
    {
        var entry = paxAttributes is null
            ? new PaxTarEntry(TarEntryType.RegularFile, name)
            : new PaxTarEntry(TarEntryType.RegularFile, name, paxAttributes);
        entry.Mode = mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = time ?? DefaultTime;
        entry.DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content));
        return Add(entry);
    }

    public LayerBuilder Symlink(string name, string target, int uid = 0, int gid = 0) =>
        Add(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target, Uid = uid, Gid = gid, ModificationTime = DefaultTime, Mode = (UnixFileMode)0b111_111_111 });

    public LayerBuilder HardLink(string name, string target) =>
        Add(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target, ModificationTime = DefaultTime });

    public LayerBuilder Device(string name, TarEntryType type, int major, int minor, UnixFileMode mode = (UnixFileMode)0b110_110_110) =>
        Add(new PaxTarEntry(type, name) { DeviceMajor = major, DeviceMinor = minor, Mode = mode, ModificationTime = DefaultTime });

    public LayerBuilder Fifo(string name) =>
        Add(new PaxTarEntry(TarEntryType.Fifo, name) { Mode = (UnixFileMode)0b110_100_100, ModificationTime = DefaultTime });

    public LayerBuilder Add(TarEntry entry)
    {
        entries.Add(entry);
        return this;
    }

    /// <summary>The uncompressed tar.</summary>
    public byte[] BuildTar()
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }
        return output.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return output.ToArray();
    }

    public static string Sha256(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
