using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime;

/// <summary>
/// The OCI runtime as the daemon uses it, in-process: everything that does not need a new
/// process (state, kill, delete) is a library call; create and exec start one.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>
    /// Creates the container from its bundle under a detached monitor that writes its output to
    /// <paramref name="logPath"/> and serves attach with the stdin <paramref name="io"/> asks
    /// for; returns the init PID. A bundle with process.terminal gets a terminal the monitor owns.
    /// </summary>
    Task<int> CreateAsync(string id, string bundle, string? logPath, MonitorIo io, CancellationToken cancellationToken);

    /// <summary>Creates the container without stdin (see the overload with <see cref="MonitorIo"/>).</summary>
    Task<int> CreateAsync(string id, string bundle, string? logPath, CancellationToken cancellationToken) =>
        CreateAsync(id, bundle, logPath, MonitorIo.None, cancellationToken);

    /// <summary>Lets the created container's process run. FailedPrecondition when it is not in the created state.</summary>
    Task StartAsync(string id, CancellationToken cancellationToken);

    /// <summary>The container's state, or null when the runtime does not know it.</summary>
    RuntimeContainerState? GetState(string id);

    /// <summary>Sends a signal to the container's init. Does nothing when it has exited.</summary>
    void Kill(string id, int signal);

    /// <summary>Waits until the container has stopped; false when <paramref name="timeout"/> ran out first.</summary>
    Task<bool> WaitForExitAsync(string id, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Kills if still running, then forgets the container. Idempotent.</summary>
    Task DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the container's monitor reopen its log file at <paramref name="logPath"/> (after
    /// kubelet renamed the old one); returns once the new file exists.
    /// </summary>
    Task ReopenLogAsync(string id, string logPath, CancellationToken cancellationToken);

    /// <summary>Applies new cgroup limits to a created or running container.</summary>
    void UpdateResources(string id, ResourcesSpec resources);

    /// <summary>CPU, memory and process counts from the container's cgroup; null when it has none (any more).</summary>
    Cgroups.CgroupStats? Stats(string id);

    /// <summary>Runs an extra process in the running container and collects its output.</summary>
    Task<ExecResult> ExecAsync(string id, ProcessSpec process, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Starts an extra process in the running container for an interactive session: with a
    /// terminal when <paramref name="process"/>.Terminal is set, with a stdin stream when
    /// <paramref name="stdin"/> is. NotFound for an unknown container, FailedPrecondition when
    /// it is not running, ContainerCannotRun when the process cannot be started.
    /// </summary>
    Task<Launch.InteractiveProcess> ExecInteractiveAsync(string id, ProcessSpec process, bool stdin, CancellationToken cancellationToken);

    /// <summary>
    /// Connects to the running container's monitor to see its output and send it input.
    /// NotFound for an unknown container, FailedPrecondition when it is not running.
    /// </summary>
    Task<Launch.AttachConnection> AttachAsync(string id, CancellationToken cancellationToken);
}

/// <summary>The container's stdin as its monitor provides it (CRI ContainerConfig stdin and stdin_once).</summary>
/// <param name="Stdin">The container reads a pipe that attach clients write to; otherwise /dev/null.</param>
/// <param name="StdinOnce">Close that pipe (or send a terminal EOT) when the first client that wrote to it detaches.</param>
public sealed record MonitorIo(bool Stdin, bool StdinOnce)
{
    public static readonly MonitorIo None = new(false, false);
}

/// <summary>A container as the runtime sees it.</summary>
public sealed record RuntimeContainerState(string Id, ContainerStatus Status, int Pid, DateTimeOffset Created, ContainerExitFile? Exit);

/// <summary>The outcome of an exec.</summary>
public sealed record ExecResult(int ExitCode, byte[] Stdout, byte[] Stderr);
