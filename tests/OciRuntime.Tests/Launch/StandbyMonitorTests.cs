using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.State;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// The monitor the daemon's runtime keeps on standby between creates: the next create hands its
/// container to it, a standby that is dropped or dies costs nothing but a fresh start.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class StandbyMonitorTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly BusyboxBundle _bundle = new();
    private readonly ContainerRuntime _runtime;

    public StandbyMonitorTests()
    {
        _runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), _bundle.StateRoot));
        _bundle.WriteConfig("sleep", "600");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _runtime.Dispose();
        foreach (var id in new[] { "standby-first", "standby-second" })
        {
            await _runtime.DeleteAsync(id, CancellationToken.None);
        }
        _bundle.Dispose();
    }

    [Fact]
    public async Task CreateAsync_AfterAnEarlierCreate_IsMonitoredByTheStandbyAndLeavesANewOne()
    {
        await _runtime.CreateAsync("standby-first", _bundle.Bundle, null, CancellationToken.None);
        var standby = await WaitForStandbyAsync();

        await _runtime.CreateAsync("standby-second", _bundle.Bundle, null, CancellationToken.None);
        var next = await WaitForStandbyAsync();

        var second = new StateDirectory(_bundle.StateRoot, "standby-second").ReadState()!;
        Assert.Equal(standby, second.MonitorPid);
        Assert.NotEqual(standby, next);
        Assert.Equal(ContainerStatus.Created, _runtime.GetState("standby-second")?.Status);
    }

    [Fact]
    public async Task CreateAsync_StandbyKilledWhileWaiting_StartsAnotherMonitorAndSucceeds()
    {
        await _runtime.CreateAsync("standby-first", _bundle.Bundle, null, CancellationToken.None);
        var standby = await WaitForStandbyAsync();
        System.Diagnostics.Process.GetProcessById(standby).Kill();
        await WaitUntilGoneAsync(standby);

        var pid = await _runtime.CreateAsync("standby-second", _bundle.Bundle, null, CancellationToken.None);

        var second = new StateDirectory(_bundle.StateRoot, "standby-second").ReadState()!;
        Assert.Equal(pid, second.InitPid);
        Assert.NotEqual(standby, second.MonitorPid);
        Assert.Equal(ContainerStatus.Created, _runtime.GetState("standby-second")?.Status);
    }

    [Fact]
    public async Task Dispose_WithAStandby_TheStandbyExitsHavingCreatedNothing()
    {
        await _runtime.CreateAsync("standby-first", _bundle.Bundle, null, CancellationToken.None);
        var standby = await WaitForStandbyAsync();

        _runtime.Dispose();
        await WaitUntilGoneAsync(standby);

        Assert.Null(_runtime.StandbyMonitorPid);
        Assert.Equal(["standby-first"], Directory.GetDirectories(_bundle.StateRoot).Select(Path.GetFileName));
    }

    [Fact]
    public async Task StandbyMonitorPids_PreparedStandby_ListedUnderItsStateRootUntilDisposed()
    {
        _runtime.PrepareStandby();
        var standby = await WaitForStandbyAsync();

        var listed = ContainerRuntime.StandbyMonitorPids(_bundle.StateRoot);
        var elsewhere = ContainerRuntime.StandbyMonitorPids(_bundle.StateRoot + "-other");
        _runtime.Dispose();

        Assert.Equal([standby], listed);
        Assert.Empty(elsewhere);
        Assert.Empty(ContainerRuntime.StandbyMonitorPids(_bundle.StateRoot));
    }

    [Fact]
    public void Start_RequestPipeClosedUnused_MonitorExitsQuietly()
    {
        var standby = StandbyMonitor.Start(RuntimeBinary.Require(), _bundle.StateRoot);
        var pid = standby.Pid;
        var syncRead = standby.TakeSyncRead();
        try
        {
            standby.Dispose();

            // End of file without a word: nothing was asked, nothing is reported.
            Assert.Null(CriOci.OciRuntime.Init.SyncPipe.ReadAll(syncRead));
        }
        finally
        {
            CriOci.OciRuntime.Linux.Interop.LibC.close(syncRead);
        }
        Assert.False(Directory.Exists(_bundle.StateRoot) && Directory.EnumerateFileSystemEntries(_bundle.StateRoot).Any(),
            $"monitor {pid} created state without a request");
    }

    private async Task<int> WaitForStandbyAsync()
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (_runtime.StandbyMonitorPid is { } pid && IsAlive(pid))
            {
                return pid;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException($"no monitor on standby after {Patience}");
    }

    private static async Task WaitUntilGoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (IsAlive(pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.False(IsAlive(pid), $"monitor {pid} is still alive");
    }

    private static bool IsAlive(int pid) => ProcStat.StateLetter(pid) is not ('Z' or 'X' or null);
}
