using System.Text;

namespace CriOci.OciRuntime.Tests.Support;

/// <summary>Reads a process's output as text, never forever: a hung read fails the test after a while.</summary>
internal static class StreamText
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Reads into <paramref name="seen"/> until it contains <paramref name="expected"/> or the stream ends.</summary>
    public static async Task ReadUntilAsync(Stream stream, StringBuilder seen, string expected)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[4096];
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                return;
            }
            seen.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
    }

    /// <summary>Everything until end of stream.</summary>
    public static async Task<string> ReadToEndAsync(Stream stream)
    {
        var seen = new StringBuilder();
        await ReadUntilAsync(stream, seen, "\0never\0");
        return seen.ToString();
    }
}
