using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using CriOci.Cri.V1;
using CriOci.CriServer.Telemetry;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using MetricType = OpenTelemetry.Metrics.MetricType;
using StatusCode = Grpc.Core.StatusCode;

namespace CriOci.CriServer.Tests;

/// <summary>
/// The "CriOci" Meter and ActivitySource as an exporter sees them (OpenTelemetry's in-memory
/// exporter and MeterListener), and the Prometheus listener the daemon opens beside the CRI socket.
/// Runs alone: an OpenTelemetry MeterProvider listens to every "CriOci" meter in the process, so
/// its collections would call the other test servers' fakes (their ListPodSandbox) while those
/// tests assert on the calls they recorded.
/// </summary>
[Collection(Name)]
public sealed class TelemetryTests : IAsyncLifetime
{
    public const string Name = "Telemetry";

    private CriTestServer server = null!;

    public async Task InitializeAsync() => server = await CriTestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public void Gauges_PodsAndContainersByState_CountWhatTheSandboxManagerLists()
    {
        server.Sandboxes.Pods.AddRange([Pod(PodSandboxState.SandboxReady), Pod(PodSandboxState.SandboxReady), Pod(PodSandboxState.SandboxNotready)]);
        server.Sandboxes.Containers.AddRange([Container(ContainerState.ContainerRunning), Container(ContainerState.ContainerExited), Container(ContainerState.ContainerExited)]);

        var observed = ObserveGauges();

        Assert.Equal(2, observed[(CriMetrics.PodsName, "ready")]);
        Assert.Equal(1, observed[(CriMetrics.PodsName, "notready")]);
        Assert.Equal(0, observed[(CriMetrics.ContainersName, "created")]);
        Assert.Equal(1, observed[(CriMetrics.ContainersName, "running")]);
        Assert.Equal(2, observed[(CriMetrics.ContainersName, "exited")]);
        Assert.Equal(0, observed[(CriMetrics.ContainersName, "unknown")]);
    }

    [Fact]
    public async Task InMemoryExporter_StartContainer_RecordsRequestAndStartDurations()
    {
        var exported = new List<MetricSnapshot>();
        using (var provider = Sdk.CreateMeterProviderBuilder().AddMeter(CriMetrics.Name).AddInMemoryExporter(exported).Build())
        {
            await server.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = "ctr-1" });
            provider.ForceFlush();
        }

        // Other tests' servers run in parallel, each with its own "CriOci" meter: look at every stream.
        var starts = exported.Where(m => m.Name == CriMetrics.ContainerStartDurationName).ToList();
        Assert.All(starts, m => Assert.Equal("s", m.Unit));
        Assert.Contains(starts, m => m.MetricPoints.Any(p => p.GetHistogramCount() >= 1));
        var requests = exported.Where(m => m.Name == CriMetrics.RequestDurationName).ToList();
        Assert.All(requests, m => Assert.Equal(MetricType.Histogram, m.MetricType));
        var tags = new List<Dictionary<string, object?>>();
        foreach (var point in requests.SelectMany(m => m.MetricPoints))
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }
            tags.Add(pointTags);
        }
        Assert.Contains(tags, t => (string?)t["rpc.method"] == "StartContainer"
            && (string?)t["rpc.service"] == "runtime.v1.RuntimeService" && Equals(t["rpc.grpc.status_code"], 0));
    }

    [Fact]
    public async Task Tracing_TraceparentInMetadata_SpanContinuesTheCallersTrace()
    {
        var spans = new List<Activity>();
        var callerTrace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(CriMetrics.Name).AddInMemoryExporter(spans).Build())
        {
            await server.Runtime.VersionAsync(new VersionRequest(), new Metadata { { "traceparent", $"00-{callerTrace}-{callerSpan}-01" } });
            provider.ForceFlush();
        }

        var span = Assert.Single(spans, s => s.TraceId == callerTrace);
        Assert.Equal(callerSpan, span.ParentSpanId);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("runtime.v1.RuntimeService/Version", span.DisplayName);
        Assert.Equal("Version", span.GetTagItem("rpc.method"));
    }

    [Fact]
    public async Task Tracing_NoTraceparent_SpanIsARootWithItsStatus()
    {
        var spans = new List<Activity>();
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(CriMetrics.Name).AddInMemoryExporter(spans).Build())
        {
            await Assert.ThrowsAsync<RpcException>(() => server.Runtime.StartContainerAsync(new StartContainerRequest()).ResponseAsync);
            provider.ForceFlush();
        }

        var span = spans.Last(s => s.DisplayName == "runtime.v1.RuntimeService/StartContainer");
        Assert.Equal(default, span.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal((int)StatusCode.InvalidArgument, span.GetTagItem("rpc.grpc.status_code"));
    }

    [Fact]
    public async Task MetricsListener_Scrape_ServesCriAndRuntimeMetricsInPrometheusFormat()
    {
        var port = FreePort();
        await using var withMetrics = await CriTestServer.StartAsync(new TelemetryOptions(MetricsAddress: $"127.0.0.1:{port}"));
        await withMetrics.Runtime.VersionAsync(new VersionRequest());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var scrape = await http.GetStringAsync(TelemetryOptions.MetricsPath);

        Assert.Contains("crioci_cri_request_duration_seconds_count{", scrape);
        Assert.Contains("rpc_method=\"Version\"", scrape);
        Assert.Contains("crioci_containers{", scrape);
        Assert.Contains("crioci_pods{", scrape);
        Assert.Contains("dotnet_gc_", scrape);
        Assert.Contains("process_cpu_", scrape);
    }

    [Fact]
    public async Task MetricsListener_HealthAndOtherPaths_OkAndNotFound()
    {
        var port = FreePort();
        await using var withMetrics = await CriTestServer.StartAsync(new TelemetryOptions(MetricsAddress: $"127.0.0.1:{port}"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var health = await http.GetAsync(TelemetryOptions.HealthPath);
        var grpcPath = await http.PostAsync("/runtime.v1.RuntimeService/Version", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, grpcPath.StatusCode);
    }

    [Fact]
    public async Task HealthCommand_DaemonServing_ExitsZero()
    {
        var output = new StringWriter();

        var code = await CriHealth.RunAsync(["--socket", server.SocketPath], output, TextWriter.Null);

        Assert.Equal(0, code);
        Assert.Contains("Serving", output.ToString());
    }

    [Fact]
    public async Task HealthCommand_NoDaemon_ExitsOneNamingTheSocket()
    {
        var error = new StringWriter();
        var missing = Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}.sock");

        var code = await CriHealth.RunAsync([$"--socket={missing}"], TextWriter.Null, error);

        Assert.Equal(1, code);
        Assert.Contains(missing, error.ToString());
    }

    [Theory]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData(":9464", "0.0.0.0", 9464)]
    [InlineData("[::1]:9464", "::1", 9464)]
    public void ParseEndPoint_Addresses_Parsed(string address, string ip, int port)
    {
        var endPoint = TelemetryOptions.ParseEndPoint(address);

        Assert.Equal((IPAddress.Parse(ip), port), (endPoint.Address, endPoint.Port));
    }

    [Theory]
    [InlineData("localhost:9464")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("::1")]
    public void ParseEndPoint_NotIpAndPort_Throws(string address)
    {
        Assert.Throws<FormatException>(() => TelemetryOptions.ParseEndPoint(address));
    }

    /// <summary>Collects this server's gauges only: other tests' servers run in parallel with their own meters.</summary>
    private Dictionary<(string Name, string State), long> ObserveGauges()
    {
        var meterFactory = server.Services.GetRequiredService<IMeterFactory>();
        var observed = new Dictionary<(string, string), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == CriMetrics.Name && ReferenceEquals(instrument.Meter.Scope, meterFactory)
                && instrument.Name is CriMetrics.PodsName or CriMetrics.ContainersName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "state")
                {
                    observed[(instrument.Name, (string)tag.Value!)] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    private static Cri.V1.PodSandbox Pod(PodSandboxState state) => new() { Id = Guid.NewGuid().ToString("N"), State = state };

    private static Container Container(ContainerState state) => new() { Id = Guid.NewGuid().ToString("N"), State = state };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(TelemetryTests.Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
}
