using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.State;
using CriOci.OciRuntime.Tests.Support;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Cgroups;

/// <summary>
/// A container's init starts in its cgroup on every hierarchy (SpawnRequest.Cgroup): born there
/// by crioci_spawn.c in the NativeAOT runtime (the CLI's create, the daemon's monitor), moved
/// in right after posix_spawn where the helper is not linked (this JIT-hosted test process),
/// and in neither case does a thread of the runtime end up in the container's cgroup.
/// </summary>
[Collection(ContainerCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class CgroupPlacementTests : IAsyncLifetime
{
    private readonly string _id = "cgplace-" + Guid.NewGuid().ToString("N")[..12];

    private string CgroupPath => "/crioci-tests/" + _id;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        new CgroupManager(CgroupHierarchy.Detect(), CgroupPath).Destroy();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task CliCreate_InitIsInTheContainersCgroupOnEveryHierarchyBeforeStart_AndAloneThere()
    {
        await using var container = new CliContainer("cgplace");
        var spec = container.Bundle.WriteConfig("sleep", "60");
        spec = spec with { Linux = spec.Linux! with { CgroupsPath = CgroupPath } };

        var pid = await container.CreateAsync(spec);

        Assert.Equal("created", await container.StatusAsync());
        CgroupMembership.AssertAllAt($"/proc/{pid}/cgroup", CgroupPath);
        CgroupMembership.AssertOnlyProcessIn(new CgroupManager(CgroupHierarchy.Detect(), CgroupPath), pid);
    }

    [Fact]
    public async Task MonitoredCreate_InitIsInItsCgroupBeforeStart_AndNoThreadOfTheMonitorIs()
    {
        using var bundle = new BusyboxBundle();
        using var runtime = new ContainerRuntime(new RuntimeOptions(RuntimeBinary.Require(), bundle.StateRoot));
        var spec = bundle.WriteConfig("sleep", "60");
        bundle.WriteSpec(spec with { Linux = spec.Linux! with { CgroupsPath = CgroupPath } });
        try
        {
            var pid = await runtime.CreateAsync(_id, bundle.Bundle, null, CancellationToken.None);
            var monitor = new StateDirectory(bundle.StateRoot, _id).ReadState()!.MonitorPid;

            Assert.Equal(ContainerStatus.Created, runtime.GetState(_id)?.Status);
            CgroupMembership.AssertAllAt($"/proc/{pid}/cgroup", CgroupPath);
            CgroupMembership.AssertOnlyProcessIn(new CgroupManager(CgroupHierarchy.Detect(), CgroupPath), pid);
            Assert.True(monitor > 0 && monitor != pid);
            Assert.Empty(CgroupMembership.ThreadsAt(monitor, CgroupPath));
        }
        finally
        {
            await runtime.DeleteAsync(_id, CancellationToken.None);
        }
    }

    [Fact]
    public void Spawn_WhereTheHelperIsNotLinked_MovesTheChildInAndLeavesThisProcessWhereItWas()
    {
        var cgroup = new CgroupManager(CgroupHierarchy.Detect(), CgroupPath);
        cgroup.Create(null);
        var before = CgroupMembership.Of("/proc/self/cgroup");
        var devNull = Errno.Check(open("/dev/null", O_RDWR | O_CLOEXEC, 0), "open", "/dev/null");
        // A new UTS namespace: spawned from a throwaway thread, as a container's init is.
        var request = new SpawnRequest("/bin/sleep", ["sleep", "60"], [], [devNull, devNull, devNull], UnshareFlags: CLONE_NEWUTS, Cgroup: cgroup.Placement);
        int pid;
        try
        {
            Assert.False(NativeSpawn.CanPlace(request), "this test is about the fallback, yet the test host has crioci_spawn linked in");
            pid = ProcessSpawner.Spawn(request);
        }
        finally
        {
            close(devNull);
        }
        try
        {
            CgroupMembership.AssertAllAt($"/proc/{pid}/cgroup", CgroupPath);
            CgroupMembership.AssertOnlyProcessIn(cgroup, pid);
            Assert.Equal(before, CgroupMembership.Of("/proc/self/cgroup"));
            Assert.Empty(CgroupMembership.ThreadsAt(Environment.ProcessId, CgroupPath));
        }
        finally
        {
            kill(pid, Signals.SIGKILL);
            waitpid(pid, out _, 0);
        }
    }
}
