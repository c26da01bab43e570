using Microsoft.Extensions.Logging;

namespace CriOci.PodSandbox;

internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Rollback step '{Step}' failed")]
    public static partial void RollbackStepFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Pod sandbox {PodSandboxId} ({Name}) is ready")]
    public static partial void SandboxReady(ILogger logger, string podSandboxId, string name);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Pod sandbox {PodSandboxId} removed")]
    public static partial void SandboxRemoved(ILogger logger, string podSandboxId);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Container {ContainerId} created in pod {PodSandboxId}")]
    public static partial void ContainerCreated(ILogger logger, string containerId, string podSandboxId);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Removing incomplete {Kind} {Id} left by an interrupted operation")]
    public static partial void RemovingIncomplete(ILogger logger, string kind, string id);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "Recovered {Sandboxes} pod sandboxes and {Containers} containers from disk")]
    public static partial void Recovered(ILogger logger, int sandboxes, int containers);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Container {ContainerId} did not stop after {Signal}; sending SIGKILL")]
    public static partial void StopEscalated(ILogger logger, string containerId, string signal);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Pod sandbox {PodSandboxId} attached to network {Network}: {Ips}")]
    public static partial void NetworkAttached(ILogger logger, string podSandboxId, string network, string ips);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "Pod sandbox {PodSandboxId} detached from network {Network}")]
    public static partial void NetworkDetached(ILogger logger, string podSandboxId, string network);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Pod sandbox {PodSandboxId}: CNI DEL of {Plugin} failed for resources already gone, ignored: {Message}")]
    public static partial void NetworkDeleteTolerated(ILogger logger, string podSandboxId, string plugin, string message);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Debug, Message = "Pod sandbox {PodSandboxId}: network counters unavailable: {Message}")]
    public static partial void StatsUnavailable(ILogger logger, string podSandboxId, string message);

    [LoggerMessage(EventId = 2040, Level = LogLevel.Information, Message = "Pod sandbox {PodSandboxId}: its cgroup is left in place, other cgroups are still below it")]
    public static partial void PodCgroupInUse(ILogger logger, string podSandboxId);

    [LoggerMessage(EventId = 2041, Level = LogLevel.Warning, Message = "Pod sandbox {PodSandboxId}: CNI CHECK failed: {Message}")]
    public static partial void NetworkCheckFailed(ILogger logger, string podSandboxId, string message);
}
