using System.Formats.Tar;
using System.Security.Cryptography;
using CriOci.Core;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Unpack;
using CriOci.ImageStore.Unpack.Interop;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace CriOci.Fuzz.Tests;

/// <summary>
/// Hostile and broken layer archives unpacked into a directory inside a sandbox: whatever the
/// archive, nothing outside the target directory is created or changed (the sandbox, with a
/// canary file and a directory beside the target, is compared inode by inode before and after,
/// and the escape names are looked for above it), and the unpacker fails only with the errors
/// its caller handles: a domain error for a bad layer, an I/O error for the filesystem.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class LayerUnpackerFuzzTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("crioci-fuzz-tar-").FullName;
    private readonly string _escapeName = "crioci-fuzz-escape-" + Guid.NewGuid().ToString("N")[..8];

    private string Sandbox => Path.Combine(_root, "sandbox");
    private string Target => Path.Combine(Sandbox, "target");
    private string Blob => Path.Combine(_root, "blobs", "layer");

    [Fact]
    public async Task Unpack_HostileAndBrokenArchives_WritesNothingOutsideAndFailsOnlyWithHandledErrors()
    {
        Assert.True(Environment.UserName == "root", "the tar fuzz target creates device nodes and chowns: run it as root, as CI does");
        Directory.CreateDirectory(Path.Combine(Sandbox, "outside"));
        Directory.CreateDirectory(Path.GetDirectoryName(Blob)!);
        File.WriteAllText(Path.Combine(Sandbox, "canary"), "canary\n");
        File.WriteAllText(Path.Combine(Sandbox, "outside", "file"), "outside\n");
        var archives = new HostileTar(_escapeName, Path.Combine(Sandbox, "canary"));
        var unpacker = new LayerUnpacker(NullLogger.Instance);
        var outcomes = new Dictionary<string, int>();

        await FuzzRun.RunAsync(output, "layer unpacker", maxCases: 1500, budget: TimeSpan.FromSeconds(15), async random =>
        {
            if (Directory.Exists(Target))
            {
                Directory.Delete(Target, recursive: true);
            }
            Directory.CreateDirectory(Target);
            var (blob, tar) = archives.Next(random);
            await File.WriteAllBytesAsync(Blob, blob);
            var diffId = random.Next(10) == 0 ? Digest.ComputeSha256("not the layer"u8) : Digest.ComputeSha256(tar);
            var before = Snapshot();

            string outcome;
            try
            {
                await unpacker.UnpackAsync(Blob, Target, diffId, "fuzz layer", CancellationToken.None);
                outcome = "unpacked";
            }
            catch (Exception exception) when (exception is InvalidArgumentException or FailedPreconditionException or IOException or UnauthorizedAccessException)
            {
                outcome = exception is SyscallException syscall ? $"{nameof(SyscallException)} ({syscall.Call})" : exception.GetType().Name;
            }

            Assert.Equal(before, Snapshot());
            foreach (var escaped in EscapePaths())
            {
                Assert.True(Syscalls.Lstat(escaped) is null, $"the archive created {escaped}");
            }
            lock (outcomes)
            {
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        });

        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(outcomes.GetValueOrDefault("unpacked") > 0, "no archive unpacked: the generator only makes broken ones");
    }

    public static TheoryData<string, Type> BrokenArchivesFoundByTheFuzzer => new()
    {
        // TarReader threw InvalidOperationException for a PAX header whose size runs past the archive.
        { "pax header size past the end", typeof(FailedPreconditionException) },
        // TarReader threw NotSupportedException for a GNU sparse file.
        { "gnu sparse file", typeof(FailedPreconditionException) },
        // File.CreateSymbolicLink threw ArgumentException for an empty target, and for one with a NUL.
        { "symlink with an empty target", typeof(InvalidArgumentException) },
        { "symlink with a NUL in its target", typeof(InvalidArgumentException) },
    };

    [Theory]
    [MemberData(nameof(BrokenArchivesFoundByTheFuzzer))]
    public async Task Unpack_BrokenArchiveFoundByTheFuzzer_IsADomainError(string archive, Type expected)
    {
        var tar = BrokenArchive(archive);
        Directory.CreateDirectory(Target);
        Directory.CreateDirectory(Path.GetDirectoryName(Blob)!);
        await File.WriteAllBytesAsync(Blob, tar);

        var error = await Record.ExceptionAsync(() =>
            new LayerUnpacker(NullLogger.Instance).UnpackAsync(Blob, Target, Digest.ComputeSha256(tar), "fuzz layer", CancellationToken.None));

        Assert.IsType(expected, error);
        // A broken archive names the layer; a broken entry names the entry.
        Assert.Contains(expected == typeof(FailedPreconditionException) ? "fuzz layer" : "\"link\"", error.Message);
    }

    private static byte[] BrokenArchive(string archive)
    {
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, leaveOpen: true))
        {
            switch (archive)
            {
                case "pax header size past the end":
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "dir", new Dictionary<string, string> { ["comment"] = "x" }));
                    break;
                case "gnu sparse file" or "symlink with an empty target":
                    writer.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "link") { LinkName = "target" });
                    break;
                default:
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "link") { LinkName = "nul\0target" });
                    break;
            }
        }
        var tar = stream.ToArray();
        var header = tar.AsSpan(0, 512);
        switch (archive)
        {
            case "pax header size past the end":
                HostileTar.WriteField(header.Slice(124, 12), "77777777777");
                break;
            case "gnu sparse file":
                header[156] = (byte)'S';
                break;
            case "symlink with an empty target":
                HostileTar.WriteField(header.Slice(157, 100), "");
                break;
        }
        HostileTar.FixChecksum(header);
        return tar;
    }

    /// <summary>Where the generated escape names would land if a ".." or an absolute name were followed.</summary>
    private IEnumerable<string> EscapePaths()
    {
        for (var directory = new DirectoryInfo(Sandbox); directory is not null; directory = directory.Parent)
        {
            yield return Path.Combine(directory.FullName, _escapeName);
        }
        yield return Path.Combine("/proc/self", _escapeName);
    }

    /// <summary>Every inode under the temporary root except the target's and the blob's: type, mode, owner, links, size, times and content.</summary>
    private string Snapshot()
    {
        var lines = new List<string>();
        void Walk(string path)
        {
            if (path == Target || path == Blob)
            {
                return;
            }
            var status = Syscalls.Lstat(path) ?? throw new InvalidOperationException($"{path} vanished while being listed");
            var content = status.IsRegularFile ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))
                : status.IsSymbolicLink ? new FileInfo(path).LinkTarget
                : "";
            lines.Add($"{Path.GetRelativePath(_root, path)} mode={Convert.ToString(status.Mode, 8)} uid={status.Uid} gid={status.Gid} links={status.LinkCount} " +
                $"inode={status.Inode} size={status.Size} mtime={status.ModificationSeconds}.{status.ModificationNanoseconds} {content}");
            if (status.IsDirectory)
            {
                foreach (var child in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal))
                {
                    Walk(child);
                }
            }
        }
        Walk(_root);
        return string.Join('\n', lines);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
