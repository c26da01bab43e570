using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using CriOci.TestSupport;

namespace CriOci.Bench.Cri;

/// <summary>
/// Issue 5's pull benchmark image: four layers of an 8 MiB incompressible file and 200 small
/// files, and one of 2000 small files (about 33 MiB compressed), pushed to the benchmark's
/// registry once per sample. Every sample's layers hold other random bytes, so each pull of
/// each peer is cold: nothing is found in a content store, whatever that peer's GC did with
/// the image of the previous sample.
/// </summary>
public static class PullBenchImages
{
    private const string Repository = "pull-bench";
    private const int BigLayers = 4;
    private const int BigFileBytes = 8 * 1024 * 1024;

    /// <summary>Pushes <paramref name="count"/> distinct images and returns their references ("host/pull-bench:sN").</summary>
    public static async Task<IReadOnlyList<string>> PushAsync(string registry, int count, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{registry}/v2/{Repository}/"), Timeout = TimeSpan.FromMinutes(5) };
        var references = new List<string>();
        for (var sample = 0; sample < count; sample++)
        {
            var layers = new List<(byte[] Blob, string DiffId)>();
            for (var i = 0; i < BigLayers; i++)
            {
                layers.Add(Layer(BigLayerTar(sample, i)));
            }
            layers.Add(Layer(SmallFilesTar(sample)));
            foreach (var (blob, _) in layers)
            {
                await RegistryApi.UploadBlobAsync(http, blob, cancellationToken);
            }
            var config = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["architecture"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64",
                ["os"] = "linux",
                ["config"] = new JsonObject { ["Cmd"] = new JsonArray("sh") },
                ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray([.. layers.Select(l => (JsonNode)l.DiffId!)]) },
            }.ToJsonString());
            await RegistryApi.UploadBlobAsync(http, config, cancellationToken);
            var manifest = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = TestImages.OciManifestMediaType,
                ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", config),
                ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l.Blob))]),
            }.ToJsonString());
            var tag = $"s{sample}";
            await RegistryApi.PutManifestAsync(http, tag, TestImages.OciManifestMediaType, manifest, cancellationToken);
            references.Add($"{registry}/{Repository}:{tag}");
        }
        return references;
    }

    private static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = RegistryApi.Sha256(content),
        ["size"] = content.Length,
    };

    private static (byte[] Blob, string DiffId) Layer(byte[] tar)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }
        return (compressed.ToArray(), RegistryApi.Sha256(tar));
    }

    private static byte[] BigLayerTar(int sample, int index)
    {
        var big = new byte[BigFileBytes];
        new Random(sample * 100 + index).NextBytes(big);
        return Tar(writer =>
        {
            Add(writer, TarEntryType.Directory, $"data{index}/", null);
            Add(writer, TarEntryType.RegularFile, $"data{index}/blob.bin", big);
            for (var i = 0; i < 200; i++)
            {
                Add(writer, TarEntryType.RegularFile, $"data{index}/small-{i}.txt", Encoding.UTF8.GetBytes($"sample {sample} layer {index} file {i}\n"));
            }
        });
    }

    private static byte[] SmallFilesTar(int sample) => Tar(writer =>
    {
        for (var i = 0; i < 2000; i++)
        {
            if (i % 100 == 0)
            {
                Add(writer, TarEntryType.Directory, $"usr/share/d{i / 100}/", null);
            }
            Add(writer, TarEntryType.RegularFile, $"usr/share/d{i / 100}/f{i}", Encoding.UTF8.GetBytes($"{sample}:" + new string('x', i % 4096)));
        }
    });

    private static byte[] Tar(Action<TarWriter> write)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }
        return output.ToArray();
    }

    private static void Add(TarWriter writer, TarEntryType type, string name, byte[]? content)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Mode = type == TarEntryType.Directory ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
            ModificationTime = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero),
        };
        if (content is not null)
        {
            // A directory entry refuses even a null data stream.
            entry.DataStream = new MemoryStream(content);
        }
        writer.WriteEntry(entry);
    }
}
