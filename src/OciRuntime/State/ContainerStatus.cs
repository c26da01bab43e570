namespace CriOci.OciRuntime.State;

/// <summary>The runtime-spec container statuses.</summary>
public enum ContainerStatus
{
    Creating,
    Created,
    Running,
    Stopped,
}

public static class ContainerStatusNames
{
    public static string ToSpecString(this ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        _ => "stopped",
    };
}
