using System.Diagnostics;
using CriOci.Core.Telemetry;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>
/// One CNI plugin invocation as a span ("cni.plugin &lt;type&gt; &lt;command&gt;") and a
/// measurement of <see cref="PodSandboxMetrics.CniPluginDuration"/>. A call that never reaches
/// <see cref="Finish"/> (killed at its timeout, or cancelled) is recorded as result "error".
/// </summary>
internal sealed class CniPluginCall : IDisposable
{
    private readonly string _plugin;
    private readonly string _command;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _result = "error";

    public CniPluginCall(string executable, IReadOnlyDictionary<string, string> environment)
    {
        _plugin = Path.GetFileName(executable);
        _command = environment.GetValueOrDefault("CNI_COMMAND", "?");
        _activity = CriOciDiagnostics.StartSpan("cni.plugin");
        if (_activity is not null)
        {
            _activity.DisplayName = $"cni.plugin {_plugin} {_command}";
            _activity.SetTag("cni.plugin", _plugin);
            _activity.SetTag("cni.command", _command);
        }
    }

    /// <summary>The plugin ran to its end: success, or the CNI error it reported.</summary>
    public PluginOutcome Finish(PluginOutcome outcome)
    {
        _result = outcome.Succeeded ? "success" : "failure";
        if (_activity is not null)
        {
            _activity.SetTag("cni.result", _result);
            _activity.SetTag("process.exit.code", outcome.ExitCode);
            if (!outcome.Succeeded)
            {
                _activity.SetTag("cni.error.code", outcome.ErrorCode);
                _activity.SetStatus(ActivityStatusCode.Error, outcome.Message);
            }
        }
        return outcome;
    }

    public void Dispose()
    {
        if (_result == "error")
        {
            _activity?.SetTag("cni.result", _result);
            _activity?.SetStatus(ActivityStatusCode.Error, "the plugin was killed or cancelled");
        }
        _activity?.Dispose();
        if (PodSandboxMetrics.CniPluginDuration.Enabled)
        {
            PodSandboxMetrics.CniPluginDuration.Record(
                Stopwatch.GetElapsedTime(_started).TotalSeconds,
                new KeyValuePair<string, object?>("cni.plugin", _plugin),
                new KeyValuePair<string, object?>("cni.command", _command),
                new KeyValuePair<string, object?>("cni.result", _result));
        }
    }
}
