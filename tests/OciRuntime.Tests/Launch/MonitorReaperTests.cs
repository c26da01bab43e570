using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>Children handed to MonitorReaper are reaped by it, whenever they exit: none is left a zombie of this process.</summary>
public sealed class MonitorReaperTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static int SpawnInOwnSession(params string[] argv)
    {
        var devNull = Errno.Check(LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open", "/dev/null");
        try
        {
            return ProcessSpawner.Spawn(new SpawnRequest(argv[0], argv, [], [devNull, devNull, devNull], NewSession: true));
        }
        finally
        {
            LibC.close(devNull);
        }
    }

    /// <summary>True once /proc no longer lists the PID: exited and reaped (a zombie is still listed).</summary>
    private static async Task<bool> GoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return true;
            }
            await Task.Delay(20);
        }
        return false;
    }

    [Fact]
    public async Task Adopt_ChildExitsLater_ReapedOnItsSigchld()
    {
        var pid = SpawnInOwnSession("/bin/sleep", "0.3");

        MonitorReaper.Adopt(pid);

        Assert.True(await GoneAsync(pid), $"pid {pid} is still listed as {ProcStat.StateLetter(pid)}");
    }

    [Fact]
    public async Task Adopt_ChildAlreadyAZombie_ReapedAtOnce()
    {
        var pid = SpawnInOwnSession("/bin/true");
        var deadline = DateTime.UtcNow + Patience;
        while (ProcStat.StateLetter(pid) != 'Z' && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Equal('Z', ProcStat.StateLetter(pid));

        MonitorReaper.Adopt(pid);

        Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} is still listed as {ProcStat.StateLetter(pid)}");
    }
}
