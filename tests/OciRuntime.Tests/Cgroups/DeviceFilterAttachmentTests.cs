using System.Diagnostics;
using System.Globalization;
using CriOci.OciRuntime.Cgroups;
using CriOci.OciRuntime.Spec;
using CriOci.OciRuntime.Tests.Support;

namespace CriOci.OciRuntime.Tests.Cgroups;

/// <summary>
/// The device filter on this machine's real cgroup2 hierarchy (on a hybrid host the one at
/// /sys/fs/cgroup/unified): a shell moved into the cgroup opens what the rules allow and gets
/// EPERM for the rest.
/// </summary>
[Trait("Category", "Privileged")]
public sealed class DeviceFilterAttachmentTests : IDisposable
{
    private static readonly DeviceCgroupSpec[] NullOnly =
    [
        new() { Allow = false, Access = "rwm" },
        new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" },
    ];

    // Opens /dev/null and /dev/zero for reading once the test says go, reporting each.
    private const string OpenBoth =
        "read go; (: </dev/null) 2>&1 && echo null-opened; (: </dev/zero) 2>&1 && echo zero-opened; echo done";

    private readonly string _cgroupPath = $"/crioci-test-devices-{Guid.NewGuid():N}";
    private readonly string _directory;

    public DeviceFilterAttachmentTests()
    {
        RuntimeBinary.RequireRoot();
        var v2 = CgroupHierarchy.Detect().V2
            ?? throw new InvalidOperationException("Missing test prerequisite: no cgroup2 hierarchy is mounted (see /proc/self/mountinfo)");
        _directory = v2.MountPoint + _cgroupPath;
        Directory.CreateDirectory(_directory);
    }

    public void Dispose() => Directory.Delete(_directory);

    [Fact]
    public void Apply_DenyAllButNull_ProcessInTheCgroupOpensNullAndGetsEpermForZero()
    {
        DeviceFilterAttachment.Apply(_directory, NullOnly);

        var output = RunInCgroup(OpenBoth);

        Assert.Contains("null-opened", output, StringComparison.Ordinal);
        Assert.DoesNotContain("zero-opened", output, StringComparison.Ordinal);
        Assert.Contains("/dev/zero: Operation not permitted", output, StringComparison.Ordinal);
        Assert.Contains("done", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DetachAll_AfterApply_ZeroOpensAgain()
    {
        DeviceFilterAttachment.Apply(_directory, NullOnly);

        DeviceFilterAttachment.DetachAll(_directory);
        var output = RunInCgroup(OpenBoth);

        Assert.Empty(DeviceFilterAttachment.AttachedProgramIds(_directory));
        Assert.Contains("null-opened", output, StringComparison.Ordinal);
        Assert.Contains("zero-opened", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_Twice_ReplacesTheProgramAndTheNewRulesHold()
    {
        DeviceFilterAttachment.Apply(_directory, NullOnly);
        var first = Assert.Single(DeviceFilterAttachment.AttachedProgramIds(_directory));

        DeviceFilterAttachment.Apply(_directory, [.. NullOnly, new() { Allow = true, Type = "c", Major = 1, Minor = 5, Access = "r" }]);
        var second = Assert.Single(DeviceFilterAttachment.AttachedProgramIds(_directory));
        var output = RunInCgroup(OpenBoth);

        Assert.NotEqual(first, second);
        Assert.Contains("zero-opened", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CgroupManagerUpdate_UnifiedMode_AttachesTheDeviceRules()
    {
        var v2 = CgroupHierarchy.Detect().V2!;
        var unified = new CgroupHierarchy(CgroupMode.Unified, [v2]);

        new CgroupManager(unified, _cgroupPath).Update(new ResourcesSpec { Devices = NullOnly });
        var output = RunInCgroup(OpenBoth);

        Assert.Single(DeviceFilterAttachment.AttachedProgramIds(_directory));
        Assert.Contains("null-opened", output, StringComparison.Ordinal);
        Assert.DoesNotContain("zero-opened", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CgroupManagerUpdate_HybridWithoutV1DevicesController_AttachesTheProgramOnCgroup2()
    {
        var v2 = CgroupHierarchy.Detect().V2!;
        var pidsOnly = Directory.CreateTempSubdirectory("cgroup-v1-pids-").FullName;
        try
        {
            Directory.CreateDirectory(pidsOnly + _cgroupPath);
            var hybrid = new CgroupHierarchy(CgroupMode.Hybrid, [new CgroupMount(pidsOnly, false, new HashSet<string> { "pids" }), v2]);

            new CgroupManager(hybrid, _cgroupPath).Update(new ResourcesSpec { Devices = NullOnly });
            var output = RunInCgroup(OpenBoth);

            Assert.Single(DeviceFilterAttachment.AttachedProgramIds(_directory));
            Assert.DoesNotContain("zero-opened", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(pidsOnly, recursive: true);
        }
    }

    [Fact]
    public void CgroupManagerUpdate_HybridWithV1DevicesController_LeavesCgroup2WithoutAProgram()
    {
        var v2 = CgroupHierarchy.Detect().V2!;
        var devicesV1 = Directory.CreateTempSubdirectory("cgroup-v1-devices-").FullName;
        try
        {
            Directory.CreateDirectory(devicesV1 + _cgroupPath);
            var hybrid = new CgroupHierarchy(CgroupMode.Hybrid, [new CgroupMount(devicesV1, false, new HashSet<string> { "devices" }), v2]);

            new CgroupManager(hybrid, _cgroupPath).Update(new ResourcesSpec { Devices = NullOnly });

            Assert.Empty(DeviceFilterAttachment.AttachedProgramIds(_directory));
            Assert.Equal("c 1:3 rwm", File.ReadAllText(Path.Combine(devicesV1 + _cgroupPath, "devices.allow")));
        }
        finally
        {
            Directory.Delete(devicesV1, recursive: true);
        }
    }

    /// <summary>Starts sh, moves it into the cgroup, lets it run the script and returns what it printed.</summary>
    private string RunInCgroup(string script)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        using var shell = Process.Start(start) ?? throw new InvalidOperationException("cannot start /bin/sh");
        try
        {
            File.WriteAllText(Path.Combine(_directory, "cgroup.procs"), shell.Id.ToString(CultureInfo.InvariantCulture));
            shell.StandardInput.WriteLine("go");
            shell.StandardInput.Close();
            var output = shell.StandardOutput.ReadToEnd();
            shell.WaitForExit();
            return output;
        }
        finally
        {
            if (!shell.HasExited)
            {
                shell.Kill();
                shell.WaitForExit();
            }
        }
    }
}
