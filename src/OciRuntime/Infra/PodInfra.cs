using System.Globalization;
using System.Text.Json.Serialization;
using CriOci.OciRuntime.Init;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Infra;

/// <summary>A pod's infra process, named by PID and start time so a reused PID is never mistaken for it.</summary>
public sealed record PodInfraProcess(int Pid, ulong StartTime)
{
    /// <summary>What containers put in the OCI spec to join the pod's PID namespace.</summary>
    [JsonIgnore]
    public string PidNamespacePath => $"/proc/{Pid}/ns/pid";

    [JsonIgnore]
    public bool IsAlive => ProcStat.IsSameLiveProcess(Pid, StartTime);
}

/// <summary>The pod's pinned namespaces the reaper sits in (null: the host's); its PID namespace is always new.</summary>
/// <param name="PodDirectory">The pod's state directory: only shown on the reaper's command line, so ps (and leak checks) tell whose it is.</param>
/// <param name="User">The pod's own user namespace: the new PID namespace is then made inside it, so the pod's root owns it (and can mount its /proc).</param>
public sealed record PodInfraNamespaces(string? Network, string? Ipc, string? Uts, string PodDirectory, string? User = null)
{
    internal static readonly (string Flag, int CloneFlag)[] Kinds =
    [
        ("netns", LibC.CLONE_NEWNET), ("ipcns", LibC.CLONE_NEWIPC), ("utsns", LibC.CLONE_NEWUTS),
    ];

    internal IEnumerable<(string Flag, int CloneFlag, string Path)> Present() =>
        Kinds.Zip([Network, Ipc, Uts]).Where(k => k.Second is not null).Select(k => (k.First.Flag, k.First.CloneFlag, k.Second!));
}

/// <summary>
/// Starts and stops the reaper that is PID 1 of a pod's shared PID namespace
/// (<see cref="PodInfraReaper"/>). There is no pause container: the reaper is a mode of
/// crioci-runtime, detached from the daemon like the container monitors.
/// </summary>
public static class PodInfra
{
    public const string Verb = "pod-infra";

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// From the daemon: runs the first stage (<see cref="Detach"/>) as a child, which starts the
    /// reaper in a new PID namespace and the given pod namespaces, and reports its PID. The
    /// first stage exits at once, so the reaper is re-parented away from the daemon and a
    /// daemon SIGKILL never reaches it.
    /// </summary>
    public static async Task<PodInfraProcess> StartAsync(string runtimeExecutable, PodInfraNamespaces namespaces, CancellationToken cancellationToken)
    {
        var (syncRead, syncWrite) = ContainerRuntime.CreatePipe();
        int stage1;
        try
        {
            var args = new List<string> { runtimeExecutable, Verb, "--sync-fd", "3", "--pod", namespaces.PodDirectory };
            foreach (var (flag, _, path) in namespaces.Present())
            {
                args.AddRange(["--" + flag, path]);
            }
            if (namespaces.User is { } user)
            {
                args.AddRange(["--userns", user]);
            }
            var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
            try
            {
                stage1 = ProcessSpawner.Spawn(new SpawnRequest(runtimeExecutable, args,
                    ["PATH=" + Spec.SpecDefaults.DefaultPath], [devNull, devNull, devNull, syncWrite]));
            }
            finally
            {
                LibC.close(devNull);
            }
        }
        catch
        {
            LibC.close(syncRead);
            throw;
        }
        finally
        {
            LibC.close(syncWrite);
        }
        var report = await SyncPipe.ReadAllAsync(syncRead, reapFirst: stage1, cancellationToken).ConfigureAwait(false);
        if (SyncPipe.TryParseReadyPid(report, out var pid)
            && ProcStat.StartTime(pid) is { } startTime)
        {
            return new PodInfraProcess(pid, startTime);
        }
        throw new Core.UnavailableException($"start pod infra process: {SyncPipe.ErrorText(report ?? "it exited without a report")}");
    }

    /// <summary>
    /// First stage, run as the daemon's child: enter the pod's namespaces and a new PID namespace
    /// on a spawning thread, start the reaper there in its own session, report its PID and exit.
    /// </summary>
    public static int Detach(string runtimeExecutable, PodInfraNamespaces namespaces, int syncFd)
    {
        var joins = namespaces.Present().Select(n => new NamespaceJoin(n.CloneFlag, n.Path)).ToList();
        var devNull = -1;
        try
        {
            // The reaper must not inherit the report pipe: the daemon reads it to its end.
            SyncPipe.SetCloseOnExec(syncFd);
            devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
            var pid = ProcessSpawner.Spawn(new SpawnRequest(runtimeExecutable, [runtimeExecutable, Verb, "--detached", "--pod", namespaces.PodDirectory],
                ["PATH=" + Spec.SpecDefaults.DefaultPath], [devNull, devNull, devNull], joins,
                UnshareFlags: LibC.CLONE_NEWPID, NewSession: true,
                UserNamespace: namespaces.User is { } user ? new UserNamespaceRequest(user, [], []) : null));
            SyncPipe.Send(syncFd, SyncPipe.Ready, pid.ToString(CultureInfo.InvariantCulture));
            return 0;
        }
        catch (SyscallException exception)
        {
            SyncPipe.Send(syncFd, SyncPipe.Error, exception.Message);
            return 1;
        }
        finally
        {
            if (devNull >= 0)
            {
                LibC.close(devNull);
            }
        }
    }

    /// <summary>
    /// Kills the reaper (and with it whatever is left in its PID namespace: the kernel kills
    /// them all when a namespace's init dies) and waits until it is gone. Idempotent.
    /// </summary>
    public static async Task StopAsync(PodInfraProcess infra)
    {
        if (!infra.IsAlive)
        {
            return;
        }
        LibC.kill(infra.Pid, Signals.SIGKILL);
        // It is not our child (see StartAsync): its new parent reaps it, we only watch it go.
        var deadline = DateTime.UtcNow + StopTimeout;
        while (infra.IsAlive)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Core.UnavailableException($"pod infra process {infra.Pid} did not exit after SIGKILL");
            }
            await Task.Delay(StopPollInterval).ConfigureAwait(false);
        }
    }
}
