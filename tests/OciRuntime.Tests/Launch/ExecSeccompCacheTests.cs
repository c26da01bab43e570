using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;

namespace CriOci.OciRuntime.Tests.Launch;

/// <summary>
/// The daemon's exec seccomp programs in memory. The program file in the state directory shows
/// what the cache does: deleted after a load, it comes back only when the cache compiles anew.
/// </summary>
public sealed class ExecSeccompCacheTests : IDisposable
{
    private static readonly SeccompSpec Profile = new()
    {
        DefaultAction = "SCMP_ACT_ALLOW",
        Syscalls = [new SeccompSyscallSpec { Names = ["mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1 }],
    };

    private readonly string _root = Directory.CreateTempSubdirectory("crioci-seccomp-cache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Get_SecondExec_TakesTheProgramFromMemory()
    {
        var cache = new ExecSeccompCache();
        var container = Container("c1");

        var first = cache.Get(container, initPid: 100, Profile);
        File.Delete(ProgramFile(container));
        var second = cache.Get(container, initPid: 100, Profile);

        Assert.NotNull(first);
        Assert.Same(first, second);
        Assert.False(File.Exists(ProgramFile(container)));
    }

    [Fact]
    public void Get_NoProfile_IsNullAndKeepsNothing()
    {
        var cache = new ExecSeccompCache();

        Assert.Null(cache.Get(Container("c1"), initPid: 100, profile: null));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Forget_RemovedContainer_NextGetLoadsAnew()
    {
        var cache = new ExecSeccompCache();
        var container = Container("c1");
        var first = cache.Get(container, initPid: 100, Profile);
        File.Delete(ProgramFile(container));

        cache.Forget(container);
        var again = cache.Get(container, initPid: 100, Profile);

        Assert.Equal(first!.Program, again!.Program);
        Assert.NotSame(first, again);
        Assert.True(File.Exists(ProgramFile(container)));
    }

    [Fact]
    public void Get_SameIdWithAnotherInit_DoesNotReuseTheOldProgram()
    {
        var cache = new ExecSeccompCache();
        var container = Container("c1");
        var old = cache.Get(container, initPid: 100, Profile);
        File.Delete(ProgramFile(container));

        var recreated = cache.Get(container, initPid: 200, Profile);

        Assert.NotSame(old, recreated);
        Assert.True(File.Exists(ProgramFile(container)));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Get_PastCapacity_DropsTheLeastRecentlyUsed()
    {
        var cache = new ExecSeccompCache(capacity: 2);
        var (a, b, c) = (Container("a"), Container("b"), Container("c"));
        var programA = cache.Get(a, 1, Profile);
        var programB = cache.Get(b, 2, Profile);
        Assert.Same(programA, cache.Get(a, 1, Profile));

        cache.Get(c, 3, Profile);

        Assert.Equal(2, cache.Count);
        Assert.Same(programA, cache.Get(a, 1, Profile));
        Assert.NotSame(programB, cache.Get(b, 2, Profile));
    }

    [Fact]
    public async Task Get_ConcurrentFirstExecs_LoadOneProgram()
    {
        var cache = new ExecSeccompCache();
        var container = Container("c1");
        using var start = new Barrier(8);

        var programs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return cache.Get(container, initPid: 100, Profile);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));

        Assert.All(programs, program => Assert.Same(programs[0], program));
    }

    [Fact]
    public void Get_UnreadableProgram_FailsAndIsNotKept()
    {
        var cache = new ExecSeccompCache();
        var container = Container("c1");
        File.WriteAllBytes(ProgramFile(container), [1, 2, 3]);

        Assert.Throws<Core.FailedPreconditionException>(() => cache.Get(container, initPid: 100, Profile));
        File.Delete(ProgramFile(container));
        var program = cache.Get(container, initPid: 100, Profile);

        Assert.NotNull(program);
        Assert.Equal(1, cache.Count);
    }

    private StateDirectory Container(string id)
    {
        var directory = new StateDirectory(_root, id);
        Directory.CreateDirectory(directory.Path);
        return directory;
    }

    private static string ProgramFile(StateDirectory directory) => Path.Combine(directory.Path, "exec-seccomp.bpf");
}
