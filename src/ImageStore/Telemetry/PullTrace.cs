using System.Diagnostics;
using CriOci.Core.Telemetry;

namespace CriOci.ImageStore.Telemetry;

/// <summary>
/// One pull from its source: the "image.pull" span (children image.resolve and, per layer,
/// image.layer with image.layer.fetch and image.layer.unpack) and its
/// <see cref="PullMetrics.PullDuration"/> measurement, "failure" unless <see cref="Succeeded"/> was called.
/// </summary>
internal sealed class PullTrace : IDisposable
{
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _result = "failure";

    public PullTrace(string reference)
    {
        _activity = CriOciDiagnostics.StartSpan("image.pull");
        _activity?.SetTag("image.reference", reference);
    }

    public void Succeeded(string imageId, long size)
    {
        _result = "success";
        _activity?.SetTag("image.id", imageId);
        _activity?.SetTag("image.size", size);
    }

    public void Failed(Exception exception) => _activity.RecordFailure(exception);

    public static Activity? StartStep(string name) => CriOciDiagnostics.StartSpan(name);

    public static Activity? StartLayer(string digest, long size)
    {
        var activity = CriOciDiagnostics.StartSpan("image.layer");
        activity?.SetTag("image.layer.digest", digest);
        activity?.SetTag("image.layer.size", size);
        return activity;
    }

    public void Dispose()
    {
        _activity?.SetTag("image.pull.result", _result);
        _activity?.Dispose();
        PullMetrics.PullDuration.Record(
            Stopwatch.GetElapsedTime(_started).TotalSeconds, new KeyValuePair<string, object?>("image.pull.result", _result));
    }
}
