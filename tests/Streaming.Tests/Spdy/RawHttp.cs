using System.Net.Sockets;
using System.Text;

namespace CriOci.Streaming.Tests.Spdy;

/// <summary>An HTTP/1.1 response head (and body, when the server did not switch protocols) read off a raw socket.</summary>
internal sealed record RawHttpResponse(int StatusCode, Dictionary<string, List<string>> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(", ", values) : null;
}

/// <summary>Just enough HTTP/1.1 to send an upgrade request and read the answer byte by byte.</summary>
internal static class RawHttp
{
    public static async Task<RawHttpResponse> SendUpgradeAsync(NetworkStream stream, Uri url, IEnumerable<(string Name, string Value)> headers)
    {
        var request = new StringBuilder();
        request.Append($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\n");
        foreach (var (name, value) in headers)
        {
            request.Append($"{name}: {value}\r\n");
        }
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));

        var head = await ReadHeadAsync(stream);
        var lines = head.Split("\r\n");
        var statusCode = int.Parse(lines[0].Split(' ')[1]);
        var responseHeaders = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1).Where(line => line.Length > 0))
        {
            var colon = line.IndexOf(':');
            var name = line[..colon];
            if (!responseHeaders.TryGetValue(name, out var values))
            {
                responseHeaders[name] = values = [];
            }
            values.Add(line[(colon + 1)..].Trim());
        }
        var body = "";
        if (statusCode != 101)
        {
            body = await ReadBodyAsync(stream, responseHeaders);
        }
        return new RawHttpResponse(statusCode, responseHeaders, body);
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 4 || bytes[^4] != '\r' || bytes[^3] != '\n' || bytes[^2] != '\r' || bytes[^1] != '\n')
        {
            if (await stream.ReadAsync(one) == 0)
            {
                throw new EndOfStreamException("connection closed inside the HTTP response head");
            }
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static async Task<string> ReadBodyAsync(NetworkStream stream, Dictionary<string, List<string>> headers)
    {
        if (headers.TryGetValue("Content-Length", out var length))
        {
            var body = new byte[int.Parse(length[0])];
            await stream.ReadExactlyAsync(body);
            return Encoding.UTF8.GetString(body);
        }
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding[0].Contains("chunked"))
        {
            var body = new MemoryStream();
            while (true)
            {
                var size = Convert.ToInt32((await ReadLineAsync(stream)).Split(';')[0], 16);
                if (size == 0)
                {
                    await ReadLineAsync(stream);
                    return Encoding.UTF8.GetString(body.ToArray());
                }
                var chunk = new byte[size];
                await stream.ReadExactlyAsync(chunk);
                body.Write(chunk);
                await ReadLineAsync(stream);
            }
        }
        return "";
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (bytes.Count < 2 || bytes[^2] != '\r' || bytes[^1] != '\n')
        {
            await stream.ReadExactlyAsync(one);
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray(), 0, bytes.Count - 2);
    }
}
