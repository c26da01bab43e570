namespace CriOci.OciRuntime.State;

/// <summary>What the runtime remembers about a created container (state.json in its state directory).</summary>
/// <param name="InitStartTime">Start time of the init process in clock ticks since boot
/// (/proc/PID/stat field 22): together with the PID it identifies the process even after the
/// kernel reuses the number.</param>
public sealed record ContainerStateFile(
    string Id,
    string Bundle,
    int InitPid,
    ulong InitStartTime,
    DateTimeOffset Created,
    IReadOnlyDictionary<string, string>? Annotations,
    int MonitorPid = 0,
    ulong MonitorStartTime = 0,
    string? CgroupPath = null);

/// <summary>How the init process ended, written once by the monitor that reaped it (exit.json).</summary>
public sealed record ContainerExitFile(int ExitCode, int Signal, DateTimeOffset FinishedAt, bool OomKilled);

/// <summary>The state document of the OCI runtime spec (runtime.md "State").</summary>
public sealed record OciState(
    string OciVersion,
    string Id,
    string Status,
    int Pid,
    string Bundle,
    IReadOnlyDictionary<string, string>? Annotations);
