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
            var exec = await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "true" }, Timeout = 10 });
            Assert.Equal(0, exec.ExitCode);
            // Allocates past its limit: the kernel's OOM killer ends it (ContainerSecurityTests checks the status).
            var hogConfig = CriRequests.Container("hog", registry.BusyboxLatest.Reference, "dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1");
            hogConfig.Linux = new LinuxContainerConfig
            {
                Resources = new LinuxContainerResources { MemoryLimitInBytes = 32L << 20, MemorySwapLimitInBytes = 32L << 20 },
            };
            var hog = await runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = pod.PodSandboxId, Config = hogConfig, SandboxConfig = podConfig });
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = hog.ContainerId });

            // The fixture's own readiness probe adds one or more Version calls of its own.
            var versions = await prometheus.WaitForAsync(
                """sum(crioci_cri_request_duration_seconds_count{rpc_method="Version",rpc_grpc_status_code="0"})""", v => v >= 4);
            var oomKills = await prometheus.WaitForAsync("crioci_container_oom_kills_total", v => v >= 1);
            var running = await prometheus.WaitForAsync("""crioci_containers{state="running"}""", v => v == 1);
            var exited = await prometheus.WaitForAsync("""crioci_containers{state="exited"}""", v => v == 1);
            var ready = await prometheus.WaitForAsync("""crioci_pods{state="ready"}""", v => v == 1);
            var starts = await prometheus.WaitForAsync("crioci_container_start_duration_seconds_count", v => v >= 2);
            var pulls = await prometheus.WaitForAsync("""crioci_image_pull_duration_seconds_count{image_pull_result="success"}""", v => v >= 1);
            var pulledBytes = await prometheus.WaitForAsync("crioci_image_pull_bytes_total", v => v > 0);
            var bridgeAdds = await prometheus.WaitForAsync(
                """crioci_cni_plugin_duration_seconds_count{cni_plugin="bridge",cni_command="ADD",cni_result="success",cni_in_process="true"}""", v => v >= 1);
            var execs = await prometheus.WaitForAsync("""crioci_exec_sessions_total{exec_kind="sync"}""", v => v >= 1);
            // The hog's monitor leaves once it has recorded the exit; the app's stays.
            var monitors = await prometheus.WaitForAsync("""crioci_monitors{monitor_kind="container"}""", v => v == 1);
            var standbyMonitors = await prometheus.WaitForAsync("""crioci_monitors{monitor_kind="standby"}""", v => v == 1);
            var monitorMemory = await prometheus.WaitForAsync("""crioci_monitor_memory_usage_bytes{monitor_kind="container"}""", v => v > 0);
            await prometheus.WaitForAsync("""up{job="crioci"}""", v => v == 1);

            Assert.True(versions >= 4);
            Assert.Equal(1, oomKills);
            Assert.Equal(1, running);
            Assert.Equal(1, exited);
            Assert.Equal(1, ready);
            Assert.Equal(2, starts);
            Assert.Equal(1, pulls);
            // The busybox image is a manifest, a config and a layer of a static busybox: more than a few KiB.
            Assert.True(pulledBytes > 100_000, $"pulled {pulledBytes} bytes");
            Assert.Equal(1, bridgeAdds);
            Assert.Equal(1, execs);
            Assert.Equal(1, monitors);
            Assert.Equal(1, standbyMonitors);
            // A NativeAOT monitor that has released its start-up pages is about 1 MiB resident:
            // more than its stacks alone, never a whole GiB.
            Assert.InRange(monitorMemory, 256 << 10, 1L << 30);

            await runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
            Assert.Equal(0, await prometheus.WaitForAsync("""crioci_containers{state="running"}""", v => v == 0));
            Assert.Equal(0, await prometheus.WaitForAsync("""crioci_monitors{monitor_kind="container"}""", v => v == 0));
            Assert.Equal(1, await prometheus.WaitForAsync(
                """crioci_cni_plugin_duration_seconds_count{cni_plugin="bridge",cni_command="DEL",cni_result="success",cni_in_process="true"}""", v => v >= 1));
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
        var daemon = await StartExportingToAsync(receiver);
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

    /// <summary>
    /// A pod's life, each CRI call sent with its own caller span in "traceparent": each call's
    /// span has that caller as its parent, and the steps inside are its children (image pull
    /// with resolve and per-layer fetch and unpack, CNI ADD/DEL with one span per plugin run,
    /// rootfs mount, spec and runtime create, start, exec, stop).
    /// </summary>
    [Fact]
    public async Task Otlp_PodLifecycleWithTraceparent_ExportsEachStepAsAChildSpan()
    {
        await using var receiver = new OtlpReceiver();
        var daemon = await StartExportingToAsync(receiver);
        try
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            var runtime = daemon.Client.Runtime;
            var image = registry.BusyboxLayered.Reference;
            var pullCaller = Caller(traceId);
            await daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } }, pullCaller.Headers);
            var podConfig = CriRequests.Pod("traced", Path.Combine(daemon.BaseDirectory, "pod-logs"));
            var runCaller = Caller(traceId);
            var pod = await runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig }, runCaller.Headers);
            var createCaller = Caller(traceId);
            var created = await runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = pod.PodSandboxId,
                Config = CriRequests.Container("app", image, "sleep", "3600"),
                SandboxConfig = podConfig,
            }, createCaller.Headers);
            var startCaller = Caller(traceId);
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId }, startCaller.Headers);
            var execCaller = Caller(traceId);
            await runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = created.ContainerId, Cmd = { "true" }, Timeout = 10 }, execCaller.Headers);
            var stopCaller = Caller(traceId);
            await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = created.ContainerId, Timeout = 10 }, stopCaller.Headers);
            var stopPodCaller = Caller(traceId);
            await runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.PodSandboxId }, stopPodCaller.Headers);

            // Spans leave in the order they end, and the StopPodSandbox span ends last.
            await WaitForAsync(() => receiver.Spans().FirstOrDefault(s => s.TraceId == traceId && s.ParentSpanId == stopPodCaller.SpanId));
            var trace = new TraceTree([.. receiver.Spans().Where(s => s.TraceId == traceId)]);

            var pull = trace.CallOf(pullCaller.SpanId, "runtime.v1.ImageService/PullImage");
            var imagePull = trace.OnlyChild(pull, "image.pull");
            Assert.Equal(image, imagePull.Attributes["image.reference"]);
            Assert.Equal("success", imagePull.Attributes["image.pull.result"]);
            trace.OnlyChild(imagePull, "image.resolve");
            var layers = trace.Children(imagePull, "image.layer");
            Assert.Equal(2, layers.Count);
            Assert.All(layers, layer =>
            {
                Assert.StartsWith("sha256:", layer.Attributes["image.layer.digest"]);
                trace.OnlyChild(layer, "image.layer.fetch");
                trace.OnlyChild(layer, "image.layer.unpack");
            });

            var run = trace.CallOf(runCaller.SpanId, "runtime.v1.RuntimeService/RunPodSandbox");
            var add = trace.OnlyChild(run, "cni.add");
            var addPlugins = trace.Children(add, "cni.plugin");
            // The built-in default network (no CNI config in the test's directory) runs bridge, and
            // portmap only for a pod with hostPorts, which this one has not.
            Assert.Equal(new string?[] { "bridge" }, addPlugins.Select(p => p.Attributes["cni.plugin"]).Order());
            Assert.All(addPlugins, plugin =>
            {
                Assert.Equal("ADD", plugin.Attributes["cni.command"]);
                Assert.Equal("success", plugin.Attributes["cni.result"]);
            });

            var create = trace.CallOf(createCaller.SpanId, "runtime.v1.RuntimeService/CreateContainer");
            foreach (var step in new[] { "container.rootfs.mount", "container.spec", "runtime.create" })
            {
                Assert.Equal(created.ContainerId, trace.OnlyChild(create, step).Attributes["crioci.container_id"]);
            }
            trace.OnlyChild(trace.CallOf(startCaller.SpanId, "runtime.v1.RuntimeService/StartContainer"), "runtime.start");
            trace.OnlyChild(trace.CallOf(execCaller.SpanId, "runtime.v1.RuntimeService/ExecSync"), "runtime.exec");
            trace.OnlyChild(trace.CallOf(stopCaller.SpanId, "runtime.v1.RuntimeService/StopContainer"), "runtime.stop");

            var stopPod = trace.CallOf(stopPodCaller.SpanId, "runtime.v1.RuntimeService/StopPodSandbox");
            var delete = trace.OnlyChild(stopPod, "cni.del");
            var deletePlugins = trace.Children(delete, "cni.plugin");
            Assert.Equal(new string?[] { "bridge" }, deletePlugins.Select(p => p.Attributes["cni.plugin"]).Order());
            Assert.All(deletePlugins, plugin => Assert.Equal("DEL", plugin.Attributes["cni.command"]));

            // Exports are cumulative: an export after the last call carries every instrument used.
            var metrics = await WaitForAsync(() => receiver.Bodies("/v1/metrics").LastOrDefault(body => Contains(body, "crioci.exec.sessions"u8)));
            Assert.True(Contains(metrics, "crioci.cni.plugin.duration"u8));
            Assert.True(Contains(metrics, "crioci.image.pull.bytes"u8));
            Assert.True(Contains(metrics, "crioci.image.pull.duration"u8));
            Assert.True(Contains(metrics, "crioci.monitors"u8));
            Assert.True(Contains(metrics, "crioci.monitor.memory.usage"u8));
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
    }

    /// <summary>log.format json: every line the daemon writes is one JSON object; log.level decides which get written.</summary>
    [Fact]
    public async Task Logs_JsonFormat_OneObjectPerLineAtTheConfiguredLevel()
    {
        var verbose = await DaemonProcess.StartAsync(extraArgs: ["--log-format", "json", "--log-level", "debug"]);
        var quiet = await DaemonProcess.StartAsync(extraArgs: ["--log-format", "json", "--log-level", "warning"]);
        try
        {
            await verbose.Client.Runtime.VersionAsync(new VersionRequest());
            await quiet.Client.Runtime.VersionAsync(new VersionRequest());
            await Assert.ThrowsAsync<RpcException>(async () =>
                await quiet.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = "missing" }));

            var verboseLines = await WaitForLinesAsync(verbose, lines => lines.Any(l => l.Contains("\"Version started\"", StringComparison.Ordinal)));
            var quietLines = await WaitForLinesAsync(quiet, lines => lines.Any(l => l.Contains("ContainerStatus failed", StringComparison.Ordinal)));

            var verboseEntries = verboseLines.Select(ParseLogLine).ToList();
            // The fixture's readiness probe and the test each made a Version call.
            var started = verboseEntries.Where(e => e.Message == "Version started").ToList();
            Assert.NotEmpty(started);
            Assert.All(started, e => Assert.Equal(("Debug", "CriOci.CriServer.CriInterceptor"), (e.Level, e.Category)));
            Assert.Contains(verboseEntries, e => e.Level == "Information" && e.Message.Contains("serving CRI", StringComparison.Ordinal));

            var quietEntries = quietLines.Select(ParseLogLine).ToList();
            Assert.DoesNotContain(quietEntries, e => e.Level is "Debug" or "Information" or "Trace");
            Assert.Contains(quietEntries, e => e.Level == "Warning" && e.Message.Contains("NotFound", StringComparison.Ordinal));
        }
        finally
        {
            await verbose.DisposeAsync();
            await quiet.DisposeAsync();
        }
    }

    /// <summary>
    /// A log line written during a traced CRI call names that call's exported span, so a log
    /// search by trace ID finds it next to the trace.
    /// </summary>
    [Fact]
    public async Task Logs_JsonFormatDuringTracedCall_ScopeCarriesTheCriSpansIds()
    {
        await using var receiver = new OtlpReceiver();
        var daemon = await StartExportingToAsync(receiver, "--log-format", "json", "--log-level", "debug");
        try
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            var caller = Caller(traceId);
            await daemon.Client.Runtime.ListContainersAsync(new ListContainersRequest(), caller.Headers);

            var span = await WaitForAsync(() => receiver.Spans().FirstOrDefault(s => s.TraceId == traceId));
            var lines = await WaitForLinesAsync(daemon, lines => lines.Any(l => l.Contains(traceId, StringComparison.Ordinal)));
            var started = lines.Single(l => l.Contains("\"ListContainers started\"", StringComparison.Ordinal) && l.Contains(traceId, StringComparison.Ordinal));
            using var json = System.Text.Json.JsonDocument.Parse(started);
            var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray().ToList();
            Assert.Contains(scopes, scope => scope.ValueKind == System.Text.Json.JsonValueKind.Object
                && scope.TryGetProperty("TraceId", out var trace) && trace.GetString() == traceId
                && scope.TryGetProperty("SpanId", out var spanId) && spanId.GetString() == span.SpanId);
        }
        finally
        {
            await daemon.DisposeAsync();
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
        }
    }

    private static async Task<IReadOnlyList<string>> WaitForLinesAsync(DaemonProcess daemon, Func<IReadOnlyList<string>, bool> complete)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            IReadOnlyList<string> lines;
            using (var stream = new FileStream(daemon.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
            {
                lines = [.. (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
            }
            if (complete(lines))
            {
                return lines;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the daemon's log never had the expected line:\n{string.Join('\n', lines)}");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>The JSON console formatter's fields; a line that is not such an object fails the test.</summary>
    private static (string Level, string Category, string Message) ParseLogLine(string line)
    {
        using var json = System.Text.Json.JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.True(root.TryGetProperty("Timestamp", out _), line);
        Assert.True(root.TryGetProperty("EventId", out _), line);
        return (root.GetProperty("LogLevel").GetString()!, root.GetProperty("Category").GetString()!, root.GetProperty("Message").GetString()!);
    }

    /// <summary>A caller's own span, sent as W3C "traceparent" gRPC metadata, sampled.</summary>
    private static (string SpanId, Metadata Headers) Caller(string traceId)
    {
        var spanId = ActivitySpanId.CreateRandom().ToHexString();
        return (spanId, new Metadata { { "traceparent", $"00-{traceId}-{spanId}-01" } });
    }

    /// <summary>The daemon exporting to <paramref name="receiver"/> over OTLP/HTTP, configured by its config file.</summary>
    private static async Task<DaemonProcess> StartExportingToAsync(OtlpReceiver receiver, params string[] extraArgs)
    {
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
        try
        {
            return await DaemonProcess.StartAsync(baseDirectory, ["--config", config, .. extraArgs]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OTEL_BSP_SCHEDULE_DELAY", null);
            Environment.SetEnvironmentVariable("OTEL_METRIC_EXPORT_INTERVAL", null);
        }
    }

    /// <summary>One trace's spans, looked up by parent.</summary>
    private sealed class TraceTree(IReadOnlyList<OtlpSpan> spans)
    {
        /// <summary>The daemon's span of the CRI call sent with caller span <paramref name="callerSpanId"/>.</summary>
        public OtlpSpan CallOf(string callerSpanId, string name)
        {
            var call = Assert.Single(spans, s => s.ParentSpanId == callerSpanId);
            Assert.Equal(name, call.Name);
            return call;
        }

        /// <summary>Children named <paramref name="name"/>, or, for spans named after their subject too, whose name starts with it and a space.</summary>
        public IReadOnlyList<OtlpSpan> Children(OtlpSpan parent, string name) =>
            [.. spans.Where(s => s.ParentSpanId == parent.SpanId && (s.Name == name || s.Name.StartsWith(name + " ", StringComparison.Ordinal)))];

        public OtlpSpan OnlyChild(OtlpSpan parent, string name)
        {
            var children = Children(parent, name);
            Assert.True(children.Count == 1,
                $"{parent.Name} has {children.Count} children named {name}; its children: {string.Join(", ", spans.Where(s => s.ParentSpanId == parent.SpanId).Select(s => s.Name))}");
            return children[0];
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
