using System.Threading.Channels;
using CriOci.Streaming.RemoteCommand;

namespace CriOci.Streaming.Tests.RemoteCommand;

/// <summary>The resize stream: JSON objects back to back, as Go's json.Encoder writes them, split anywhere by the transport.</summary>
public sealed class ResizeDecoderTests
{
    [Fact]
    public async Task Pump_ObjectsSplitAcrossReads_EveryEventInOrder()
    {
        var wire = """{"Width":80,"Height":24}""" + "\n" + """{"Width":120,"Height":40}""" + "\n" + """ {"width":1,"height":2}""";
        var source = new TrickleStream(System.Text.Encoding.UTF8.GetBytes(wire), chunk: 7);
        var events = Channel.CreateUnbounded<TerminalSize>();

        await ResizeDecoder.PumpAsync(source, events.Writer, CancellationToken.None);

        var sizes = new List<TerminalSize>();
        await foreach (var size in events.Reader.ReadAllAsync())
        {
            sizes.Add(size);
        }
        Assert.Equal([new TerminalSize(80, 24), new TerminalSize(120, 40), new TerminalSize(1, 2)], sizes);
    }

    [Fact]
    public async Task Pump_GarbageOnTheStream_EndsResizingQuietly()
    {
        var source = new TrickleStream("""{"Width":80,"Height":24}not json"""u8.ToArray(), chunk: 100);
        var events = Channel.CreateUnbounded<TerminalSize>();

        await ResizeDecoder.PumpAsync(source, events.Writer, CancellationToken.None);

        Assert.Equal(new TerminalSize(80, 24), await events.Reader.ReadAsync());
        Assert.True(events.Reader.Completion.IsCompleted);
    }

    /// <summary>Hands out at most <c>chunk</c> bytes per read.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
