using System.Diagnostics;
using CriOci.Core.Telemetry;

namespace CriOci.PodSandbox.Telemetry;

/// <summary>
/// Child spans for the steps of a container's life inside a CRI call's span (README.md
/// "Traces"): container.rootfs.mount, container.spec, runtime.create, runtime.start,
/// runtime.stop, runtime.exec. Null when nobody listens.
/// </summary>
internal static class RuntimeSpans
{
    public static Activity? Start(string name, string containerId)
    {
        var activity = CriOciDiagnostics.StartSpan(name);
        activity?.SetTag("crioci.container_id", containerId);
        return activity;
    }
}
