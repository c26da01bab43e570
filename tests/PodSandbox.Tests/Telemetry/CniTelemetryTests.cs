using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CriOci.Core;
using CriOci.Core.Telemetry;
using CriOci.PodSandbox.Network;
using CriOci.PodSandbox.Telemetry;
using CriOci.PodSandbox.Tests.Network;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests.Telemetry;

/// <summary>
/// The CNI spans and the plugin duration histogram as a listener (OpenTelemetry in the daemon)
/// sees them. Other tests run plugins at the same time, so spans are told apart by this test's
/// trace and measurements by plugin types no other test uses.
/// </summary>
public sealed class CniTelemetryTests : IDisposable
{
    private const string Result = """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.9.0.5/24","interface":0}]}""";

    private readonly FakePluginDirectory _cni = new();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<(double Seconds, Dictionary<string, object?> Tags)> _durations = new();
    private readonly ActivityListener _activityListener;
    private readonly MeterListener _meterListener = new();

    public CniTelemetryTests()
    {
        File.WriteAllText(_cni.Netns, "");
        _activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CriOciDiagnostics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_activityListener);
        _meterListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CriOciDiagnostics.Name && instrument.Name == PodSandboxMetrics.CniPluginDurationName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meterListener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            _durations.Enqueue((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        _meterListener.Start();
    }

    public void Dispose()
    {
        _meterListener.Dispose();
        _activityListener.Dispose();
        _cni.Dispose();
    }

    [Fact]
    public async Task AddAsync_TwoPlugins_OnePluginSpanEachUnderTheAddSpanAndTheirDurations()
    {
        _cni.AddResultPlugin("otel-first", Result);
        _cni.AddResultPlugin("otel-second", Result);
        _cni.WriteConfig("10-otel.conflist", """
            {"cniVersion":"1.0.0","name":"otelnet","plugins":[{"type":"otel-first"},{"type":"otel-second"}]}
            """);

        var trace = await RunTracedAsync(() => NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None));

        var add = Assert.Single(trace, s => s.OperationName == "cni.add");
        Assert.Equal("otelnet", add.GetTagItem("cni.network"));
        var plugins = trace.Where(s => s.OperationName == "cni.plugin").ToList();
        Assert.Equal(["cni.plugin otel-first ADD", "cni.plugin otel-second ADD"], plugins.OrderBy(p => p.StartTimeUtc).Select(p => p.DisplayName));
        Assert.All(plugins, plugin =>
        {
            Assert.Equal(add.SpanId, plugin.ParentSpanId);
            Assert.Equal("ADD", plugin.GetTagItem("cni.command"));
            Assert.Equal("success", plugin.GetTagItem("cni.result"));
            Assert.Equal(0, plugin.GetTagItem("process.exit.code"));
            Assert.Equal(ActivityStatusCode.Unset, plugin.Status);
        });
        var durations = Durations("otel-first").Concat(Durations("otel-second")).ToList();
        Assert.Equal(2, durations.Count);
        Assert.All(durations, d =>
        {
            Assert.Equal("ADD", d.Tags["cni.command"]);
            Assert.Equal("success", d.Tags["cni.result"]);
            Assert.Equal(false, d.Tags["cni.in_process"]);
            Assert.True(d.Seconds > 0);
        });
    }

    [Fact]
    public async Task AddAsync_PluginReportsAnError_SpanAndDurationSayFailure()
    {
        _cni.AddPlugin("otel-broken", """echo '{"cniVersion":"1.0.0","code":11,"msg":"no addresses left"}'; exit 1""");
        _cni.WriteConfig("10-otel.conflist", """
            {"cniVersion":"1.0.0","name":"otelnet","plugins":[{"type":"otel-broken"}]}
            """);

        var trace = await RunTracedAsync(async () =>
            await Assert.ThrowsAsync<UnavailableException>(() => NewInvoker().AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None)));

        var plugin = Assert.Single(trace, s => s.OperationName == "cni.plugin");
        Assert.Equal("failure", plugin.GetTagItem("cni.result"));
        Assert.Equal(11, plugin.GetTagItem("cni.error.code"));
        Assert.Equal(ActivityStatusCode.Error, plugin.Status);
        Assert.Contains("no addresses left", plugin.StatusDescription);
        var duration = Assert.Single(Durations("otel-broken"));
        Assert.Equal("failure", duration.Tags["cni.result"]);
    }

    [Fact]
    public async Task AddAsync_PluginOverrunsItsTimeout_DurationSaysError()
    {
        _cni.AddPlugin("otel-hangs", "sleep 30");
        _cni.WriteConfig("10-otel.conflist", """
            {"cniVersion":"1.0.0","name":"otelnet","plugins":[{"type":"otel-hangs"}]}
            """);

        var trace = await RunTracedAsync(async () =>
            await Assert.ThrowsAsync<UnavailableException>(() =>
                NewInvoker(TimeSpan.FromMilliseconds(300)).AddAsync(Pod(), _cni.CacheDirectory, CancellationToken.None)));

        var plugin = Assert.Single(trace, s => s.OperationName == "cni.plugin");
        Assert.Equal("error", plugin.GetTagItem("cni.result"));
        Assert.Equal(ActivityStatusCode.Error, plugin.Status);
        Assert.Equal("error", Assert.Single(Durations("otel-hangs")).Tags["cni.result"]);
    }

    private CniInvoker NewInvoker(TimeSpan? timeout = null) =>
        new(new CniOptions(_cni.ConfigDirectory, [_cni.BinDirectory], timeout ?? TimeSpan.FromSeconds(20)), NullLogger.Instance);

    private CniPodRequest Pod() => new("pod-otel", _cni.Netns, "web", "shop", "uid-1", [], null);

    /// <summary>Runs <paramref name="work"/> under a root span of its own and returns the spans of that trace (the root excluded).</summary>
    [Fact]
    public async Task InProcessStep_SuccessAndFailure_RecordedAsThePluginWithInProcessTrue()
    {
        var trace = await RunTracedAsync(() =>
        {
            using (var call = CniPluginCall.InProcess("otel-inproc-ok", "ADD"))
            {
                call.Succeeded();
            }
            using (CniPluginCall.InProcess("otel-inproc-failed", "DEL"))
            {
                // Threw before Succeeded: recorded as an error.
            }
            return Task.CompletedTask;
        });

        var ok = Assert.Single(trace, s => s.DisplayName == "cni.plugin otel-inproc-ok ADD");
        Assert.Equal(true, ok.GetTagItem("cni.in_process"));
        Assert.Equal("success", ok.GetTagItem("cni.result"));
        Assert.Null(ok.GetTagItem("process.exit.code"));
        Assert.Equal(ActivityStatusCode.Unset, ok.Status);
        var failed = Assert.Single(trace, s => s.DisplayName == "cni.plugin otel-inproc-failed DEL");
        Assert.Equal("error", failed.GetTagItem("cni.result"));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal(true, Assert.Single(Durations("otel-inproc-ok")).Tags["cni.in_process"]);
        var failedDuration = Assert.Single(Durations("otel-inproc-failed"));
        Assert.Equal("error", failedDuration.Tags["cni.result"]);
        Assert.Equal(true, failedDuration.Tags["cni.in_process"]);
    }

    private async Task<IReadOnlyList<Activity>> RunTracedAsync(Func<Task> work)
    {
        ActivityTraceId traceId;
        using (var root = CriOciDiagnostics.ActivitySource.StartActivity("test-root"))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            await work();
        }
        return [.. _spans.Where(s => s.TraceId == traceId && s.OperationName != "test-root")];
    }

    private IEnumerable<(double Seconds, Dictionary<string, object?> Tags)> Durations(string plugin) =>
        _durations.Where(d => Equals(d.Tags["cni.plugin"], plugin));
}
