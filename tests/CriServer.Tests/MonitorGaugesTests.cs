using System.Diagnostics.Metrics;
using CriOci.CriServer.Tests.Fakes;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;
using Microsoft.Extensions.DependencyInjection;

namespace CriOci.CriServer.Tests;

/// <summary>
/// The crioci.monitors gauges over a real runtime state directory: containers' monitors and the
/// standby are separate series (monitor.kind), both always present. This test process stands in
/// for a container's live monitor.
/// </summary>
public sealed class MonitorGaugesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-monitor-gauges-").FullName;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Gauges_OneContainerMonitorNoStandby_SeriesPerKind()
    {
        var options = new DaemonOptions("/unused.sock", Path.Combine(_directory, "root"), Path.Combine(_directory, "state"), "/unused/crioci-runtime", []);
        var container = new StateDirectory(Path.Combine(options.StateDirectory, "runtime"), "c1");
        Directory.CreateDirectory(container.Path);
        var self = Environment.ProcessId;
        container.WriteState(new ContainerStateFile("c1", "/bundle", 1, 0, DateTimeOffset.UtcNow, null, self, ProcStat.StartTime(self)!.Value));
        var meterFactory = _services.GetRequiredService<IMeterFactory>();
        using var metrics = new CriMetrics(meterFactory, new FakeSandboxManager(), options);

        var observed = Observe(meterFactory);

        Assert.Equal(1, observed[(CriMetrics.MonitorsName, "container")]);
        Assert.Equal(0, observed[(CriMetrics.MonitorsName, "standby")]);
        Assert.True(observed[(CriMetrics.MonitorMemoryName, "container")] > 0);
        Assert.Equal(0, observed[(CriMetrics.MonitorMemoryName, "standby")]);
    }

    private static Dictionary<(string Name, string Kind), long> Observe(IMeterFactory meterFactory)
    {
        var observed = new Dictionary<(string, string), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name is CriMetrics.MonitorsName or CriMetrics.MonitorMemoryName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "monitor.kind")
                {
                    observed[(instrument.Name, (string)tag.Value!)] = value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }
}
