using System.Diagnostics;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// The daemon's telemetry as operators consume it: Debian's real Prometheus scraping the metrics
/// endpoint, and an OTLP/HTTP receiver getting traces and metrics (README.md "Metrics").
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class TelemetryTests(RegistryFixture registry)
{
    [Fact]
    public async Task Prometheus_ScrapesDaemon_SeesCriCallsAndRunningContainer()
    {
        var metricsPort = PrometheusServer.FreePort();
        var daemon = await DaemonProcess.StartAsync(extraArgs: ["--metrics-address", $"127.0.0.1:{metricsPort}"]);
        try
        {
            await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}");
            var runtime = daemon.Client.Runtime;
            for (var i = 0; i < 3; i++)
            {
                await runtime.VersionAsync(new VersionRequest());
            }
            await daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
            var podConfig = CriRequests.Pod("metrics", Path.Combine(daemon.BaseDirectory, "pod-logs"));
            var pod = await runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig });
            var created = await runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = pod.PodSandboxId,
                Config = CriRequests.Container("app", registry.BusyboxLatest.Reference, "sleep", "3600"),
                SandboxConfig = podConfig,
            });
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

            // The fixture's own readiness probe adds one or more Version calls of its own.
            var versions = await prometheus.WaitForAsync(
                """sum(crioci_cri_request_duration_seconds_count{rpc_method="Version",rpc_grpc_status_code="0"})""", v => v >= 4);
            var running = await prometheus.WaitForAsync("""crioci_containers{state="running"}""", v => v == 1);
            var ready = await prometheus.WaitForAsync("""crioci_pods{state="ready"}""", v => v == 1);
            var starts = await prometheus.WaitForAsync("crioci_container_start_duration_seconds_count", v => v >= 1);
            await prometheus.WaitForAsync("""up{job="crioci"}""", v => v == 1);

            Assert.True(versions >= 4);
            Assert.Equal(1, running);
            Assert.Equal(1, ready);
            Assert.Equal(1, starts);

            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
            Assert.Equal(0, await prometheus.WaitForAsync("""crioci_containers{state="running"}""", v => v == 0));
            var health = await CommandRunner.RunUncheckedAsync(RepositoryPaths.Daemon, ["health", "--socket", daemon.SocketPath]);
            Assert.True(health.ExitCode == 0, health.StandardError);
            Assert.Contains("Serving", health.StandardOutput);
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
    }

    [Fact]
    public async Task Otlp_CriCallWithTraceparent_ExportsItsSpanAndTheMetrics()
    {
        await using var receiver = new OtlpReceiver();
        var baseDirectory = Path.Combine(Path.GetTempPath(), "crioci-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(baseDirectory);
        var config = Path.Combine(baseDirectory, "crioci.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "otlp": { "endpoint": "{{receiver.Endpoint}}", "protocol": "http/protobuf", "serviceName": "crioci-e2e" }
            }
            """);
        // Standard OpenTelemetry SDK variables, inherited by the daemon: export within a second, not 5 s / 60 s.
        Environment.SetEnvironmentVariable("OTEL_BSP_SCHEDULE_DELAY", "200");
        Environment.SetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL", "500");
        DaemonProcess daemon;
        try
        {
            daemon = await DaemonProcess.StartAsync(baseDirectory, ["--config", config]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OTEL_BSP_SCHEDULE_DELAY", null);
            Environment.SetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL", null);
        }
        try
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            var callerSpanId = ActivitySpanId.CreateRandom().ToHexString();
            await daemon.Client.Runtime.ListContainersAsync(new ListContainersRequest(),
                new Metadata { { "traceparent", $"00-{traceId}-{callerSpanId}-01" } });

            var span = await WaitForAsync(() => receiver.Spans().FirstOrDefault(s => s.TraceId == traceId));
            Assert.Equal(callerSpanId, span.ParentSpanId);
            Assert.Equal("runtime.v1.RuntimeService/ListContainers", span.Name);
            Assert.Equal("crioci-e2e", span.ServiceName);
            Assert.Equal("ListContainers", span.Attributes["rpc.method"]);

            var metrics = await WaitForAsync(() => receiver.Bodies("/v1/metrics")
                .FirstOrDefault(body => Contains(body, "crioci.cri.request.duration"u8) && Contains(body, "ListContainers"u8)));
            Assert.True(Contains(metrics, "crioci.containers"u8));
            Assert.True(Contains(metrics, "crioci-e2e"u8));
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
    }

    private static bool Contains(byte[] body, ReadOnlySpan<byte> text) => body.AsSpan().IndexOf(text) >= 0;

    private static async Task<T> WaitForAsync<T>(Func<T?> probe) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } found)
            {
                return found;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("nothing matching was exported within 30 s");
    }
}
