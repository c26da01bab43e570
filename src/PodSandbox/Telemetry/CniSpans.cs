using System.Diagnostics;
using CriOci.Core.Telemetry;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>The span around a pod's whole CNI ADD or DEL; each plugin run is a child span (<see cref="CniPluginCall"/>).</summary>
internal static class CniSpans
{
    public static Activity? Start(string name, string network)
    {
        var activity = CriOciDiagnostics.StartSpan(name);
        activity?.SetTag("cni.network", network);
        return activity;
    }
}
