using System.Diagnostics;
using System.Security.Cryptography;
using CriOci.Streaming.Spdy;

namespace CriOci.Streaming.Tests.Spdy;

/// <summary>
/// The SPDY/3 header compression against facts and an independent zlib: the dictionary's
/// published length and SHA-256 (moby/spdystream's headerDictionary), and node's zlib
/// inflating what we deflate and the other way round, over one shared context.
/// </summary>
public sealed class HeaderCompressionTests
{
    [Fact]
    public void Dictionary_MatchesTheOneKubernetesPeersUse()
    {
        Assert.Equal(1423, SpdyDictionary.Bytes.Length);
        Assert.Equal("51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02", Convert.ToHexStringLower(SHA256.HashData(SpdyDictionary.Bytes)));
    }

    [Fact]
    public void HeaderBlock_RoundTrip_NamesLowercasedLookupIgnoresCase()
    {
        using var compressor = new SpdyHeaderCompressor();
        using var decompressor = new SpdyHeaderDecompressor();

        var first = SpdyHeaderBlock.Decode(decompressor.Decompress(compressor.Compress(SpdyHeaderBlock.Encode([new("streamType", "stdout")]))));
        var second = SpdyHeaderBlock.Decode(decompressor.Decompress(compressor.Compress(SpdyHeaderBlock.Encode([new("Port", "8080"), new("requestID", "7")]))));

        Assert.Equal("stdout", first["Streamtype"]);
        Assert.Equal("8080", second["port"]);
        Assert.Equal("7", second["RequestId"]);
    }

    [Fact]
    public async Task Deflate_TwoBlocksOneContext_NodeZlibInflatesThemWithTheDictionary()
    {
        using var compressor = new SpdyHeaderCompressor();
        var first = compressor.Compress("streamtype-stdout"u8);
        var second = compressor.Compress("streamtype-stderr"u8);

        var inflated = await NodeAsync($$"""
            const zlib = require('zlib');
            const dictionary = Buffer.from('{{Convert.ToBase64String(SpdyDictionary.Bytes)}}', 'base64');
            const inflate = zlib.createInflate({ dictionary });
            const out = [];
            inflate.on('data', d => out.push(d.toString()));
            inflate.write(Buffer.from('{{Convert.ToBase64String(first)}}', 'base64'));
            inflate.write(Buffer.from('{{Convert.ToBase64String(second)}}', 'base64'));
            inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => console.log(out.join('|')));
            """);

        Assert.Equal("streamtype-stdoutstreamtype-stderr", inflated.Replace("|", ""));
    }

    [Fact]
    public async Task Inflate_BlocksNodeZlibDeflatedWithTheDictionary_ReadBack()
    {
        var blocks = await NodeAsync($$"""
            const zlib = require('zlib');
            const dictionary = Buffer.from('{{Convert.ToBase64String(SpdyDictionary.Bytes)}}', 'base64');
            const deflate = zlib.createDeflate({ dictionary, level: 9 });
            const out = [];
            deflate.on('data', d => out.push(d));
            deflate.write('first block, ');
            deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
              const first = Buffer.concat(out.splice(0));
              deflate.write('second block');
              deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
                console.log(first.toString('base64') + ' ' + Buffer.concat(out).toString('base64'));
              });
            });
            """);
        var parts = blocks.Trim().Split(' ');
        using var decompressor = new SpdyHeaderDecompressor();

        var first = decompressor.Decompress(Convert.FromBase64String(parts[0]));
        var second = decompressor.Decompress(Convert.FromBase64String(parts[1]));

        Assert.Equal("first block, ", System.Text.Encoding.ASCII.GetString(first));
        Assert.Equal("second block", System.Text.Encoding.ASCII.GetString(second));
    }

    [Fact]
    public void Inflate_BlockWithAnotherDictionary_Rejected()
    {
        using var decompressor = new SpdyHeaderDecompressor();
        // A zlib header announcing a preset dictionary whose Adler-32 is not SPDY's.
        byte[] foreign = [0x78, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00];

        Assert.Throws<InvalidDataException>(() => decompressor.Decompress(foreign));
    }

    private static async Task<string> NodeAsync(string script)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node is required for the zlib cross-check");
        await process.StandardInput.WriteAsync(script);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        return output.Trim();
    }
}
