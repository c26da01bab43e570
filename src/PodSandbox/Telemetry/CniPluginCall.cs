using System.Diagnostics;
using CriOci.Core.Telemetry;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>
/// One CNI plugin invocation as a span ("cni.plugin &lt;type&gt; &lt;command&gt;") and a
/// measurement of <see cref="PodSandboxMetrics.CniPluginDuration"/>. A call that never reaches
/// <see cref="Finish"/> or <see cref="Succeeded"/> (killed at its timeout, cancelled, or an
/// in-process step that threw) is recorded as result "error".
/// <para>
/// The built-in network's bridge step done by the daemon itself (<c>NativeBridge</c>) is
/// recorded as plugin "bridge" with <c>cni.in_process</c> true: an operator's dashboards keep
/// seeing every pod's bridge step, and can still tell the two apart.
/// </para>
/// </summary>
internal sealed class CniPluginCall : IDisposable
{
    private readonly string _plugin;
    private readonly string _command;
    private readonly bool _inProcess;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _result = "error";

    public CniPluginCall(string executable, IReadOnlyDictionary<string, string> environment)
        : this(Path.GetFileName(executable), environment.GetValueOrDefault("CNI_COMMAND", "?"), inProcess: false)
    {
    }

    private CniPluginCall(string plugin, string command, bool inProcess)
    {
        _plugin = plugin;
        _command = command;
        _inProcess = inProcess;
        _activity = CriOciDiagnostics.StartSpan("cni.plugin");
        if (_activity is not null)
        {
            _activity.DisplayName = $"cni.plugin {_plugin} {_command}";
            _activity.SetTag("cni.plugin", _plugin);
            _activity.SetTag("cni.command", _command);
            _activity.SetTag("cni.in_process", _inProcess);
        }
    }

    /// <summary>A plugin's work done by the daemon itself rather than by its executable.</summary>
    public static CniPluginCall InProcess(string plugin, string command) => new(plugin, command, inProcess: true);

    /// <summary>The in-process step completed.</summary>
    public void Succeeded()
    {
        _result = "success";
        _activity?.SetTag("cni.result", _result);
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
            _activity?.SetStatus(ActivityStatusCode.Error, _inProcess ? "the in-process step failed or was cancelled" : "the plugin was killed or cancelled");
        }
        _activity?.Dispose();
        if (PodSandboxMetrics.CniPluginDuration.Enabled)
        {
            PodSandboxMetrics.CniPluginDuration.Record(
                Stopwatch.GetElapsedTime(_started).TotalSeconds,
                new KeyValuePair<string, object?>("cni.plugin", _plugin),
                new KeyValuePair<string, object?>("cni.command", _command),
                new KeyValuePair<string, object?>("cni.result", _result),
                new KeyValuePair<string, object?>("cni.in_process", _inProcess));
        }
    }
}
