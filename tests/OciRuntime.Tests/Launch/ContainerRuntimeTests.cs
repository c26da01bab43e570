using System.Globalization;
using System.Text;
using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// The daemon's in-process runtime against real containers: create under a detached monitor
/// that writes the CRI log, start, exec, wait, delete.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class ContainerRuntimeTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly BusyboxBundle _bundle = new();
    private readonly ContainerRuntime _runtime;
    private readonly string _id = "lib-" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _logPath;

    public ContainerRuntimeTests()
    {
        _runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), _bundle.StateRoot));
        _logPath = Path.Combine(_bundle.Directory, "logs", "c", "0.log");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try
        {
            await _runtime.DeleteAsync(_id, CancellationToken.None);
        }
        catch (IOException)
        {
            // The delete/exit.json race (see DeleteAsync_RightAfterTheInitDied_LeavesNoStateDirectoryBehind):
            // the bundle's own clean-up below still kills and removes everything.
        }
        finally
        {
            // Give a monitor that is still writing exit.json time to finish before deleting.
            await Task.Delay(200);
            _runtime.Dispose();
            _bundle.Dispose();
        }
    }

    private static ProcessSpec Exec(params string[] args) => new()
    {
        Args = args,
        Env = ["PATH=/bin"],
        Cwd = "/",
        User = new UserSpec { Uid = 0, Gid = 0 },
    };

    [Fact]
    public async Task Lifecycle_CreateStartExecExit_ReportsStatesOutputAndExitCode()
    {
        // Arrange: the process logs one line per stream, waits for /done, writes a last line
        // without a newline and exits 7.
        _bundle.WriteConfig("sh", "-c", "echo hello-stdout; echo hello-stderr >&2; while [ ! -e /done ]; do sleep 0.05; done; echo -n no-newline; exit 7");

        // Act
        var pid = await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, CancellationToken.None);
        var created = _runtime.GetState(_id);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var running = _runtime.GetState(_id);
        var exec = await _runtime.ExecAsync(_id, Exec("sh", "-c", "echo exec-out; echo exec-err >&2; hostname; exit 3"), TimeSpan.FromSeconds(20), CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(_bundle.Rootfs, "done"), "");
        var exited = await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None);
        // The monitor flushes the log and then writes exit.json; read both after it has
        // (GetState_JustAfterTheInitDies_ReportsTheRealExitNotUnknown covers the moment before).
        await WaitForMonitorAsync(_id);
        var stopped = _runtime.GetState(_id);
        var log = await File.ReadAllLinesAsync(_logPath);
        await _runtime.DeleteAsync(_id, CancellationToken.None);

        // Assert
        Assert.True(pid > 0);
        Assert.Equal(ContainerStatus.Created, created?.Status);
        Assert.Equal(pid, created!.Pid);
        Assert.Equal(ContainerStatus.Running, running?.Status);

        Assert.Equal(3, exec.ExitCode);
        Assert.Equal($"exec-out\n{BusyboxBundle.Hostname}\n", Encoding.UTF8.GetString(exec.Stdout));
        Assert.Equal("exec-err\n", Encoding.UTF8.GetString(exec.Stderr));

        Assert.True(exited, "the container did not exit after /done appeared");
        Assert.Equal(ContainerStatus.Stopped, stopped?.Status);
        Assert.Equal(7, stopped!.Exit?.ExitCode);
        Assert.Equal(0, stopped.Exit!.Signal);

        Assert.Equal(3, log.Length);
        var stdoutRecords = log.Where(l => l.Contains(" stdout ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, stdoutRecords.Count);
        AssertCriRecord(stdoutRecords[0], "stdout", "hello-stdout");
        AssertCriRecord(stdoutRecords[1], "stdout", "no-newline");
        AssertCriRecord(log.Single(l => l.Contains(" stderr ", StringComparison.Ordinal)), "stderr", "hello-stderr");

        Assert.Null(_runtime.GetState(_id));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
    }

    private static void AssertCriRecord(string line, string stream, string message)
    {
        var parts = line.Split(' ', 4);
        Assert.Equal(4, parts.Length);
        Assert.EndsWith("Z", parts[0]);
        Assert.True(DateTimeOffset.TryParse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time), parts[0]);
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(stream, parts[1]);
        Assert.Equal("F", parts[2]);
        Assert.Equal(message, parts[3]);
    }

    [Fact]
    public async Task Create_RunningContainer_IsWatchedByCriociMonitorOnOneThreadOfItsOwn()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, MonitorIo.None, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var monitor = new StateDirectory(_bundle.StateRoot, _id).ReadState()!.MonitorPid;
        var leanMonitor = Path.Combine(Path.GetDirectoryName(RuntimeBinary.Require())!, "crioci-monitor");

        // The ready report goes out just before the exec (a create waits for neither), so the
        // exec may still be under way when start returns: wait for it, within reason.
        var executable = new FileInfo($"/proc/{monitor}/exe").LinkTarget;
        for (var waited = 0; executable != leanMonitor && waited < 10_000; waited += 20)
        {
            await Task.Delay(20);
            executable = new FileInfo($"/proc/{monitor}/exe").LinkTarget;
        }
        var threads = Directory.GetDirectories($"/proc/{monitor}/task")
            .Select(task => (Id: int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), Name: File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n')))
            .ToList();

        // The same process crioci-runtime monitor was, having exec'd the lean monitor beside it.
        Assert.Equal(leanMonitor, executable);
        // Its own work is all on the main thread; the only other is the NativeAOT runtime's
        // finalizer thread, which every .NET process starts.
        Assert.Contains(threads, thread => thread.Id == monitor);
        Assert.Equal([".NET Finalizer"], threads.Where(thread => thread.Id != monitor).Select(thread => thread.Name));
    }

    [Fact]
    public async Task Create_RunningContainer_MonitorKeepsLittleOfItsCodeMappedAndStillRecordsTheExit()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, MonitorIo.None, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);
        var monitor = new StateDirectory(_bundle.StateRoot, _id).ReadState()!.MonitorPid;
        var leanMonitor = Path.Combine(Path.GetDirectoryName(RuntimeBinary.Require())!, "crioci-monitor");

        // Watching means blocked in its epoll_wait, start-up done and its pages let go.
        for (var waited = 0; !IsWaitingInEpoll(monitor, leanMonitor) && waited < 10_000; waited += 20)
        {
            await Task.Delay(20);
        }
        var code = MappedCode(monitor, leanMonitor);
        _runtime.Kill(_id, Signals.SIGKILL);
        var exited = await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None);
        await WaitForMonitorAsync(_id);
        var state = _runtime.GetState(_id);

        Assert.True(IsWaitingInEpoll(monitor, leanMonitor) || exited, "the monitor never reached its epoll_wait");
        // Start-up leaves nearly all of it resident (94%); watching runs a few functions.
        Assert.True(code.ResidentKiB * 4 < code.SizeKiB * 3, $"{code.ResidentKiB} of {code.SizeKiB} KiB of crioci-monitor's code resident while it watches");
        Assert.True(exited);
        Assert.Equal(137, state!.Exit?.ExitCode);
        Assert.Equal(9, state.Exit!.Signal);
    }

    private static bool IsWaitingInEpoll(int pid, string executable)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget == executable
                && File.ReadAllText($"/proc/{pid}/wchan").Contains("epoll_wait", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Size and resident part of <paramref name="executable"/>'s code mapping in process <paramref name="pid"/>, from its smaps.</summary>
    private static (long SizeKiB, long ResidentKiB) MappedCode(int pid, string executable)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/smaps");
        var start = Array.FindIndex(lines, line => line.Contains(" r-xp ", StringComparison.Ordinal) && line.EndsWith(" " + executable, StringComparison.Ordinal));
        Assert.True(start >= 0, $"no code mapping of {executable} in process {pid}");
        long Field(string name) => long.Parse(lines.Skip(start + 1).First(line => line.StartsWith(name + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return (Field("Size"), Field("Rss"));
    }

    [Fact]
    public async Task Kill_RunningContainer_ExitRecordsTheSignal()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        _runtime.Kill(_id, Signals.SIGKILL);
        var exited = await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None);
        // The monitor's record, not the placeholder GetState reports before it exists (see
        // GetState_JustAfterTheInitDies_ReportsTheRealExitNotUnknown).
        await WaitForMonitorAsync(_id);
        var state = _runtime.GetState(_id);

        Assert.True(exited);
        Assert.Equal(ContainerStatus.Stopped, state?.Status);
        Assert.Equal(137, state!.Exit?.ExitCode);
        Assert.Equal(9, state.Exit!.Signal);
    }

    [Fact]
    public async Task StartAsync_Twice_ThrowsFailedPrecondition()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        var exception = await Assert.ThrowsAsync<FailedPreconditionException>(() => _runtime.StartAsync(_id, CancellationToken.None));

        Assert.Contains("running", exception.Message);
    }

    [Fact]
    public async Task StartAsync_InitDiesWhileStartWaitsForIt_ThrowsCannotRun()
    {
        // A stopped init cannot open its end of the exec fifo, so the start waits; its death
        // must end the wait with the reason rather than leave the start waiting for a byte.
        _bundle.WriteConfig("true");
        var pid = await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        Assert.Equal(0, OciRuntime.Linux.Interop.LibC.kill(pid, 19 /* SIGSTOP */));
        var start = _runtime.StartAsync(_id, CancellationToken.None);
        await Task.Delay(300);
        var completedWhileStopped = start.IsCompleted;

        Assert.Equal(0, OciRuntime.Linux.Interop.LibC.kill(pid, 9));
        var exception = await Assert.ThrowsAsync<ContainerCannotRunException>(() => start);

        Assert.False(completedWhileStopped);
        Assert.Contains("exited before it started", exception.Message);
    }

    [Fact]
    public async Task GetState_StartKilledAfterReleasingTheInit_ReportsRunningAndRefusesASecondStart()
    {
        // A daemon SIGKILLed inside StartAsync after it had taken the init's byte from the exec
        // fifo and before it deleted the fifo: the process runs, the fifo file stays.
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        var fifoPath = Path.Combine(_bundle.StateRoot, _id, "exec.fifo");
        using (var reader = new FileStream(fifoPath, FileMode.Open, FileAccess.Read))
        {
            Assert.Equal('0', reader.ReadByte());
        }

        var deadline = DateTime.UtcNow + Patience;
        var state = _runtime.GetState(_id);
        while (state?.Status == ContainerStatus.Created && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
            state = _runtime.GetState(_id);
        }
        var secondStart = await Assert.ThrowsAsync<FailedPreconditionException>(() => _runtime.StartAsync(_id, CancellationToken.None));

        Assert.True(File.Exists(fifoPath));
        Assert.Equal(ContainerStatus.Running, state?.Status);
        Assert.Contains("running", secondStart.Message);
    }

    [Fact]
    public async Task StartAsync_ContainerProcess_IgnoresNoSignals()
    {
        // The runtime's own process ignores SIGPIPE; the container's must not inherit that. (cat,
        // not sh: busybox sh ignores SIGQUIT itself.)
        _bundle.WriteConfig("cat", "/proc/self/status");
        await _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);
        Assert.True(await _runtime.WaitForExitAsync(_id, Patience, CancellationToken.None));
        await WaitForMonitorAsync(_id);

        var line = Assert.Single(await File.ReadAllLinesAsync(_logPath), l => l.Contains("SigIgn", StringComparison.Ordinal));
        var ignored = ulong.Parse(line[(line.IndexOf("SigIgn:", StringComparison.Ordinal) + "SigIgn:".Length)..].Trim(), NumberStyles.HexNumber);
        const ulong SigQuit = 1UL << (3 - 1), SigPipe = 1UL << (13 - 1);
        Assert.True((ignored & (SigQuit | SigPipe)) == 0, $"SigIgn {ignored:x16}");
    }

    [Fact]
    public async Task ExecAsync_CreatedButNotStarted_ThrowsFailedPrecondition()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);

        await Assert.ThrowsAsync<FailedPreconditionException>(
            () => _runtime.ExecAsync(_id, Exec("echo", "hi"), TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    [Fact]
    public async Task ExecAsync_BinaryNotFound_ThrowsCannotRunNamingIt()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        var exception = await Assert.ThrowsAsync<ContainerCannotRunException>(
            () => _runtime.ExecAsync(_id, Exec("no-such-tool"), TimeSpan.FromSeconds(10), CancellationToken.None));

        Assert.Contains("no-such-tool", exception.Message);
    }

    [Fact]
    public async Task ExecAsync_CommandOutlivesTimeout_ThrowsDeadlineExceeded()
    {
        _bundle.WriteConfig("sleep", "600");
        await _runtime.CreateAsync(_id, _bundle.Bundle, null, CancellationToken.None);
        await _runtime.StartAsync(_id, CancellationToken.None);

        await Assert.ThrowsAsync<DeadlineExceededException>(
            () => _runtime.ExecAsync(_id, Exec("sleep", "60"), TimeSpan.FromMilliseconds(500), CancellationToken.None));
    }

    [Fact]
    public async Task CreateAsync_BinaryNotFound_ThrowsCannotRunAndLeavesNoState()
    {
        _bundle.WriteConfig("no-such-binary");

        var exception = await Assert.ThrowsAsync<ContainerCannotRunException>(
            () => _runtime.CreateAsync(_id, _bundle.Bundle, _logPath, CancellationToken.None));

        Assert.Contains("no-such-binary", exception.Message);
        Assert.Null(_runtime.GetState(_id));
        Assert.False(Directory.Exists(Path.Combine(_bundle.StateRoot, _id)));
    }

    [Fact]
    public async Task GetState_JustAfterTheInitDies_ReportsTheRealExitNotUnknown()
    {
        // The monitor reaps the init and then writes exit.json. Until it has, GetState must
        // not report a stopped container with the made-up exit code 255: kubelet would record
        // that code (and WaitForExitAsync, which StopContainer uses, returns at that moment).
        // The window is short, so the test tries a few containers.
        _bundle.WriteConfig("sleep", "600");
        var seen = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var id = $"{_id}-{attempt}";
            await _runtime.CreateAsync(id, _bundle.Bundle, null, CancellationToken.None);
            await _runtime.StartAsync(id, CancellationToken.None);

            _runtime.Kill(id, Signals.SIGKILL);
            RuntimeContainerState? firstStopped = null;
            var deadline = DateTime.UtcNow + Patience;
            while (firstStopped is null && DateTime.UtcNow < deadline)
            {
                var state = _runtime.GetState(id);
                firstStopped = state?.Status == ContainerStatus.Stopped ? state : null;
            }
            seen.Add($"{id}: {firstStopped?.Exit?.ExitCode}");
            await WaitForMonitorAsync(id);
            await _runtime.DeleteAsync(id, CancellationToken.None);
        }

        Assert.All(seen, entry => Assert.EndsWith(": 137", entry));
    }

    /// <summary>Waits until the monitor has written exit.json (or gave up), so deleting does not race it.</summary>
    private async Task WaitForMonitorAsync(string id)
    {
        var exitFile = new StateDirectory(_bundle.StateRoot, id).ExitFile;
        var deadline = DateTime.UtcNow + Patience;
        while (!File.Exists(exitFile) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task DeleteAsync_RightAfterTheInitDied_LeavesNoStateDirectoryBehind()
    {
        // kubelet's StopContainer then RemoveContainer: WaitForExitAsync returns as soon as the
        // init is dead, and DeleteAsync then removes the state directory while the monitor may
        // still be about to write exit.json into it (AtomicFile even re-creates the directory).
        _bundle.WriteConfig("sleep", "600");
        var failures = new List<string>();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var id = $"{_id}-{attempt}";
            await _runtime.CreateAsync(id, _bundle.Bundle, null, CancellationToken.None);
            await _runtime.StartAsync(id, CancellationToken.None);
            var init = new StateDirectory(_bundle.StateRoot, id).ReadState()!;
            _runtime.Kill(id, Signals.SIGKILL);
            var deadline = DateTime.UtcNow + Patience;
            while (_runtime.GetState(id)?.Status != ContainerStatus.Stopped && DateTime.UtcNow < deadline)
            {
            }

            var exception = await Record.ExceptionAsync(() => _runtime.DeleteAsync(id, CancellationToken.None));
            var monitorsAtReturn = MonitorsOf(id);
            await Task.Delay(TimeSpan.FromMilliseconds(300));

            var directory = Path.Combine(_bundle.StateRoot, id);
            if (ProcStat.IsSameLiveProcess(init.InitPid, init.InitStartTime))
            {
                failures.Add($"{id}: the init survived");
            }
            if (monitorsAtReturn.Count > 0)
            {
                failures.Add($"{id}: DeleteAsync returned while the monitor (pid {string.Join(",", monitorsAtReturn)}) could still write exit.json");
            }
            if (exception is not null)
            {
                failures.Add($"{id}: DeleteAsync threw {exception.GetType().Name}: {exception.Message}");
            }
            if (Directory.Exists(directory))
            {
                failures.Add($"{id}: state directory left with [{string.Join(", ", Directory.GetFileSystemEntries(directory).Select(Path.GetFileName))}]");
            }
        }

        Assert.Empty(failures);
    }

    /// <summary>PIDs of live monitors of container ID: `crioci-runtime monitor --detached ... --id ID`, or the crioci-monitor it became.</summary>
    private static List<int> MonitorsOf(string id)
    {
        var pids = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                var args = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                var idIndex = Array.IndexOf(args, "--id");
                if ((args.Contains("monitor") || args[0].EndsWith("/crioci-monitor", StringComparison.Ordinal)) && idIndex >= 0 && idIndex + 1 < args.Length && args[idIndex + 1] == id
                    && ProcStat.StateLetter(pid) is not ('Z' or 'X' or null))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return pids;
    }

    [Fact]
    public async Task DeleteAsync_UnknownContainer_Succeeds()
    {
        var exception = await Record.ExceptionAsync(() => _runtime.DeleteAsync("never-created", CancellationToken.None));

        Assert.Null(exception);
    }

    [Fact]
    public void GetState_UnknownContainer_ReturnsNull()
    {
        Assert.Null(_runtime.GetState("never-created"));
    }
}
