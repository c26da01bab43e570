using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;
using static CriOci.OciRuntime.Linux.Interop.LibC;

namespace CriOci.OciRuntime.Tests.Launch;

public sealed class ContainerLauncherTests
{
    private static RuntimeSpec SpecWith(params NamespaceSpec[] namespaces) =>
        new() { Linux = new LinuxSpec { Namespaces = namespaces } };

    [Fact]
    public void Namespaces_NoPaths_AllBecomeUnshareFlags()
    {
        var spec = SpecWith(
            new() { Type = "pid" }, new() { Type = "mount" }, new() { Type = "uts" },
            new() { Type = "ipc" }, new() { Type = "network" }, new() { Type = "cgroup" });

        var (joins, flags) = ContainerLauncher.Namespaces(spec);

        Assert.Empty(joins);
        Assert.Equal(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP, flags);
    }

    [Fact]
    public void Namespaces_WithPaths_JoinsSortedUserFirstMountLast()
    {
        var spec = SpecWith(
            new() { Type = "mount", Path = "/proc/1/ns/mnt" },
            new() { Type = "network", Path = "/run/pod/ns/net" },
            new() { Type = "pid" },
            new() { Type = "uts", Path = "/run/pod/ns/uts" },
            new() { Type = "ipc", Path = "/run/pod/ns/ipc" },
            new() { Type = "time", Path = "/proc/1/ns/time" },
            new() { Type = "cgroup", Path = "/proc/1/ns/cgroup" },
            new() { Type = "user", Path = "/proc/1/ns/user" });

        var (joins, flags) = ContainerLauncher.Namespaces(spec);

        Assert.Equal(
            [
                new NamespaceJoin(CLONE_NEWUSER, "/proc/1/ns/user"),
                new NamespaceJoin(CLONE_NEWIPC, "/run/pod/ns/ipc"),
                new NamespaceJoin(CLONE_NEWUTS, "/run/pod/ns/uts"),
                new NamespaceJoin(CLONE_NEWNET, "/run/pod/ns/net"),
                new NamespaceJoin(CLONE_NEWCGROUP, "/proc/1/ns/cgroup"),
                new NamespaceJoin(CLONE_NEWTIME, "/proc/1/ns/time"),
                new NamespaceJoin(CLONE_NEWNS, "/proc/1/ns/mnt"),
            ],
            joins);
        Assert.Equal(CLONE_NEWPID, flags);
    }

    [Fact]
    public void Namespaces_EmptyPath_IsCreatedNotJoined()
    {
        var spec = SpecWith(new NamespaceSpec { Type = "network", Path = "" });

        var (joins, flags) = ContainerLauncher.Namespaces(spec);

        Assert.Empty(joins);
        Assert.Equal(CLONE_NEWNET, flags);
    }

    [Fact]
    public void Namespaces_NoLinuxSection_NothingToDo()
    {
        var (joins, flags) = ContainerLauncher.Namespaces(new RuntimeSpec());

        Assert.Empty(joins);
        Assert.Equal(0, flags);
    }

    [Theory]
    [InlineData("net")]
    [InlineData("mnt")]
    [InlineData("Network")]
    [InlineData("")]
    public void Namespaces_UnknownType_ThrowsInvalidArgumentNamingIt(string type)
    {
        var spec = SpecWith(new() { Type = "pid" }, new() { Type = type });

        var exception = Assert.Throws<InvalidArgumentException>(() => ContainerLauncher.Namespaces(spec));

        Assert.Contains($"unknown type {type}", exception.Message);
    }

    [Fact]
    public void LoadSpec_NoConfigJson_ThrowsNotFound()
    {
        var bundle = Directory.CreateTempSubdirectory("crioci-bundle-").FullName;
        try
        {
            var exception = Assert.Throws<NotFoundException>(() => ContainerLauncher.LoadSpec(bundle));

            Assert.Contains(bundle, exception.Message);
        }
        finally
        {
            Directory.Delete(bundle, recursive: true);
        }
    }

    [Fact]
    public void LoadSpec_MalformedJson_ThrowsInvalidArgumentNamingTheFile()
    {
        var bundle = Directory.CreateTempSubdirectory("crioci-bundle-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(bundle, "config.json"), "{ \"ociVersion\": ");

            var exception = Assert.Throws<InvalidArgumentException>(() => ContainerLauncher.LoadSpec(bundle));

            Assert.Contains(Path.Combine(bundle, "config.json"), exception.Message);
        }
        finally
        {
            Directory.Delete(bundle, recursive: true);
        }
    }

    [Fact]
    public void TimeOffsets_NewTimeNamespace_OneTimensOffsetsLinePerClock()
    {
        var spec = new RuntimeSpec
        {
            Linux = new LinuxSpec
            {
                TimeOffsets = new Dictionary<string, TimeOffsetSpec>
                {
                    ["monotonic"] = new() { Secs = 86400, Nanosecs = 5 },
                    ["boottime"] = new() { Secs = -10 },
                },
            },
        };

        var lines = ContainerLauncher.TimeOffsets(spec, CLONE_NEWTIME);

        Assert.Equal("monotonic 86400 5\nboottime -10 0\n", lines);
        Assert.Null(ContainerLauncher.TimeOffsets(new RuntimeSpec(), 0));
    }

    [Theory]
    [InlineData("monotonic", 0u, 0)]
    [InlineData("realtime", 0u, CLONE_NEWTIME)]
    [InlineData("boottime", 1_000_000_000u, CLONE_NEWTIME)]
    public void TimeOffsets_WithoutNewTimeNamespaceOrBadClock_ThrowsInvalidArgument(string clock, uint nanosecs, int unshareFlags)
    {
        var spec = new RuntimeSpec
        {
            Linux = new LinuxSpec { TimeOffsets = new Dictionary<string, TimeOffsetSpec> { [clock] = new() { Secs = 1, Nanosecs = nanosecs } } },
        };

        var exception = Assert.Throws<InvalidArgumentException>(() => ContainerLauncher.TimeOffsets(spec, unshareFlags));

        Assert.Contains("timeOffsets", exception.Message);
    }
}
