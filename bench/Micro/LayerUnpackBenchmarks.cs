using System.Formats.Tar;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using CriOci.ImageStore.Reference;
using CriOci.ImageStore.Unpack;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.Bench.Micro;

/// <summary>
/// LayerUnpacker throughput: a layer of <see cref="Files"/> small files in 50 directories,
/// built in memory once and stored as a plain tar blob (gzip is measured by the pull benchmark),
/// unpacked into a fresh directory per invocation; the result includes the diff ID hashing and
/// the directory times pass.
/// </summary>
[MemoryDiagnoser]
public class LayerUnpackBenchmarks
{
    private string _work = null!;
    private string _blob = null!;
    private Digest _diffId;
    private string _target = null!;
    private int _iteration;
    private readonly LayerUnpacker _unpacker = new(NullLogger.Instance);

    [Params(3000)]
    public int Files { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _work = Directory.CreateTempSubdirectory("crioci-bench-unpack-").FullName;
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var random = new Random(42);
            for (var d = 0; d < 50; d++)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, $"dir{d}/") { Mode = (UnixFileMode)0b111_101_101 });
            }
            for (var f = 0; f < Files; f++)
            {
                var content = new byte[random.Next(100, 8192)];
                random.NextBytes(content);
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"dir{f % 50}/file{f}")
                {
                    Mode = (UnixFileMode)0b110_100_100,
                    DataStream = new MemoryStream(content),
                });
            }
        }
        _blob = Path.Combine(_work, "layer.tar");
        File.WriteAllBytes(_blob, tar.ToArray());
        _diffId = new Digest(Digest.Sha256, Convert.ToHexStringLower(SHA256.HashData(tar.ToArray())));
    }

    [IterationSetup]
    public void NewTarget()
    {
        _target = Path.Combine(_work, $"layer-{_iteration++}");
        Directory.CreateDirectory(_target);
    }

    [Benchmark]
    public Task Unpack() => _unpacker.UnpackAsync(_blob, _target, _diffId, "bench layer", CancellationToken.None);

    [IterationCleanup]
    public void RemoveTarget() => Directory.Delete(_target, recursive: true);

    [GlobalCleanup]
    public void CleanUp() => Directory.Delete(_work, recursive: true);
}
