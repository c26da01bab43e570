namespace CriOci.OciRuntime.State;

/// <summary>The runtime-spec container statuses.</summary>
public enum ContainerStatus
{
    Creating,
    Created,
    Running,
    Stopped,
    /// <summary>runc's extra status: running but frozen by the cgroup freezer.</summary>
    Paused,
}

public static class ContainerStatusNames
{
    public static string ToSpecString(this ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Paused => "paused",
        _ => "stopped",
    };
}
