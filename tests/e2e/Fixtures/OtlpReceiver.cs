using System.Net;
using Google.Protobuf;

namespace CriOci.E2E.Fixtures;

/// <summary>
/// The smallest OTLP/HTTP collector: accepts protobuf POSTs on /v1/traces, /v1/metrics and
/// /v1/logs (OTLP spec "OTLP/HTTP"), keeps the bodies, and decodes spans by hand from the
/// opentelemetry-proto field numbers (trace/v1/trace.proto), since no OTLP proto package is served here.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly List<(string Path, byte[] Body)> requests = [];
    private readonly Task loop;

    public OtlpReceiver()
    {
        Port = PrometheusServer.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<byte[]> Bodies(string path)
    {
        lock (requests)
        {
            return [.. requests.Where(r => r.Path == path).Select(r => r.Body)];
        }
    }

    /// <summary>Every span received so far, with the service.name of its resource.</summary>
    public IReadOnlyList<OtlpSpan> Spans() => [.. Bodies("/v1/traces").SelectMany(DecodeTraces)];

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (requests)
            {
                requests.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
            }
            // An empty Export*ServiceResponse: full success.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>ExportTraceServiceRequest: 1 resource_spans { 1 resource { 1 attributes }, 2 scope_spans { 2 spans } }.</summary>
    private static IEnumerable<OtlpSpan> DecodeTraces(byte[] body)
    {
        foreach (var resourceSpans in LengthDelimited(body, 1))
        {
            var serviceName = LengthDelimited(resourceSpans, 1).SelectMany(resource => LengthDelimited(resource, 1))
                .Select(DecodeAttribute).FirstOrDefault(a => a.Key == "service.name").Value;
            foreach (var scopeSpans in LengthDelimited(resourceSpans, 2))
            {
                foreach (var span in LengthDelimited(scopeSpans, 2))
                {
                    yield return DecodeSpan(span, serviceName);
                }
            }
        }
    }

    /// <summary>Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes.</summary>
    private static OtlpSpan DecodeSpan(byte[] span, string? serviceName)
    {
        string Hex(int field) => Convert.ToHexStringLower(LengthDelimited(span, field).FirstOrDefault() ?? []);
        var name = LengthDelimited(span, 5).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";
        var attributes = LengthDelimited(span, 9).Select(DecodeAttribute).Where(a => a.Key is not null)
            .GroupBy(a => a.Key!).ToDictionary(g => g.Key, g => g.First().Value);
        return new OtlpSpan(Hex(1), Hex(2), Hex(4), name, serviceName, attributes);
    }

    /// <summary>KeyValue: 1 key, 2 value AnyValue { 1 string_value }; other value types come back null.</summary>
    private static (string? Key, string? Value) DecodeAttribute(byte[] keyValue)
    {
        var key = LengthDelimited(keyValue, 1).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault();
        var value = LengthDelimited(keyValue, 2).SelectMany(any => LengthDelimited(any, 1))
            .Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault();
        return (key, value);
    }

    /// <summary>The payloads of every length-delimited occurrence of <paramref name="field"/> in a message.</summary>
    private static List<byte[]> LengthDelimited(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop;
    }
}

/// <summary>A received span; IDs are lower-case hex, an empty parent means a root span.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, string? ServiceName, IReadOnlyDictionary<string, string?> Attributes);
