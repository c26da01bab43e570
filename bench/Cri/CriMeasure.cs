namespace CriOci.Bench.Cri;

/// <summary>A row of the table: what is measured, in which unit, and issue 10's target for CriOci / containerd+crun.</summary>
public sealed record CriMeasure(string Name, string Unit, double? Target = null)
{
    public static readonly CriMeasure RunPodHost = new("RunPodSandbox, host network", "ms");
    public static readonly CriMeasure StopPodHost = new("StopPodSandbox, host network", "ms");
    public static readonly CriMeasure RemovePodHost = new("RemovePodSandbox, host network", "ms");
    public static readonly CriMeasure RunPodBridge = new("RunPodSandbox, bridge CNI", "ms", 0.4);
    public static readonly CriMeasure StopPodBridge = new("StopPodSandbox, bridge CNI", "ms");
    public static readonly CriMeasure RemovePodBridge = new("RemovePodSandbox, bridge CNI", "ms");
    public static readonly CriMeasure CreateContainer = new("CreateContainer", "ms");
    public static readonly CriMeasure StartContainer = new("StartContainer", "ms");
    public static readonly CriMeasure CreateAndStart = new("CreateContainer + StartContainer", "ms", 0.4);
    public static readonly CriMeasure ExecSync = new("ExecSync `true`", "ms", 0.5);
    public static readonly CriMeasure ConcurrentPods = new("concurrent pods all running (wall)", "ms", 0.4);
    public static readonly CriMeasure PullImage = new("PullImage, 5 layers ~33 MiB, cold", "ms", 0.5);
    public static readonly CriMeasure IdleRss = new("daemon idle RSS (with its idle helpers)", "MiB", 1.0);
    public static readonly CriMeasure IdlePss = new("daemon idle PSS (with its idle helpers)", "MiB");
    public static readonly CriMeasure LoadedRss = new("daemon + helpers RSS, pods running", "MiB");
    public static readonly CriMeasure LoadedPss = new("daemon + helpers PSS, pods running", "MiB");
    public static readonly CriMeasure PerPodRss = new("per-pod overhead RSS", "MiB", 0.15);
    public static readonly CriMeasure PerPodPss = new("per-pod overhead PSS", "MiB");
    public static readonly CriMeasure HelperRssPerPod = new("helper processes per pod, RSS", "MiB");
    public static readonly CriMeasure HelpersPerPod = new("helper processes per pod", "count");

    public static IReadOnlyList<CriMeasure> All { get; } =
    [
        RunPodHost, StopPodHost, RemovePodHost, RunPodBridge, StopPodBridge, RemovePodBridge,
        CreateContainer, StartContainer, CreateAndStart, ExecSync, ConcurrentPods, PullImage,
        IdleRss, IdlePss, LoadedRss, LoadedPss, PerPodRss, PerPodPss, HelperRssPerPod, HelpersPerPod,
    ];
}
