using CriOci.Core;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Tests.Launch;

public sealed class UserNamespaceConfigTests
{
    private static IdMappingSpec Map(uint containerId, uint hostId, uint size) => new() { ContainerId = containerId, HostId = hostId, Size = size };

    private static RuntimeSpec Spec(NamespaceSpec[] namespaces, IdMappingSpec[]? uids, IdMappingSpec[]? gids) =>
        new() { Linux = new LinuxSpec { Namespaces = namespaces, UidMappings = uids, GidMappings = gids } };

    private static readonly NamespaceSpec NewUser = new() { Type = "user" };

    [Fact]
    public void FromSpec_NoUserNamespaceNoMaps_IsNull()
    {
        Assert.Null(UserNamespaceConfig.FromSpec(Spec([new() { Type = "pid" }], null, null)));
    }

    [Fact]
    public void FromSpec_NewUserNamespace_CarriesTheMaps()
    {
        var request = UserNamespaceConfig.FromSpec(Spec([NewUser], [Map(0, 100000, 65536)], [Map(0, 200000, 1), Map(1, 300000, 10)]));

        Assert.NotNull(request);
        Assert.Null(request.JoinPath);
        Assert.Equal([new IdRange(0, 100000, 65536)], request.UidMappings);
        Assert.Equal("0 200000 1\n1 300000 10\n", UserNamespaceRequest.MapText(request.GidMappings));
    }

    [Fact]
    public void FromSpec_JoinedByPathWithoutMaps_IsAJoin()
    {
        var request = UserNamespaceConfig.FromSpec(Spec([new() { Type = "user", Path = "/proc/42/ns/user" }], null, null));

        Assert.NotNull(request);
        Assert.Equal("/proc/42/ns/user", request.JoinPath);
        Assert.Empty(request.UidMappings);
    }

    [Fact]
    public void RootOnHost_NewNamespace_IsTheHostIdOfContainerIdZero()
    {
        var request = new UserNamespaceRequest(null, [new IdRange(1, 5000, 10), new IdRange(0, 100000, 1)], [new IdRange(0, 200000, 65536)]);

        Assert.Equal((100000u, 200000u), request.RootOnHost());
    }

    [Fact]
    public void RootOnHost_JoinedThroughProcOfThisProcess_ReadsItsMaps()
    {
        // This test's own namespace, the host's: its root is the host's root.
        var request = new UserNamespaceRequest($"/proc/{Environment.ProcessId}/ns/user", [], []);

        Assert.Equal((0u, 0u), request.RootOnHost());
    }

    [Fact]
    public void FromSpec_JoinedWithTheNamespacesOwnMaps_IsAccepted()
    {
        // This test process's namespace, the host's: one range of every id.
        var path = $"/proc/{Environment.ProcessId}/ns/user";

        var request = UserNamespaceConfig.FromSpec(Spec([new() { Type = "user", Path = path }], [Map(0, 0, uint.MaxValue)], null));

        Assert.Equal(path, request!.JoinPath);
    }

    [Fact]
    public void FromSpec_JoinedWithOtherMaps_IsRefusedShowingBoth()
    {
        var path = $"/proc/{Environment.ProcessId}/ns/user";

        var exception = Assert.Throws<InvalidArgumentException>(() =>
            UserNamespaceConfig.FromSpec(Spec([new() { Type = "user", Path = path }], [Map(0, 100000, 65536)], null)));

        Assert.Contains($"linux.uidMappings ({{containerID 0, hostID 100000, size 65536}}) do not match the maps of the user namespace to join, {path} ({{containerID 0, hostID 0, size 4294967295}})", exception.Message);
    }

    [Fact]
    public void RootOnHost_JoinedThroughAnotherFile_IsUnknown()
    {
        Assert.Null(new UserNamespaceRequest("/run/pods/p1/userns", [], []).RootOnHost());
    }

    [Fact]
    public void RootOnHost_JoinedThroughAPinWithMapsBeside_IsTheHostIdOfContainerIdZeroInThem()
    {
        var request = new UserNamespaceRequest("/run/pods/p1/userns", [new IdRange(0, 100000, 65536)], [new IdRange(0, 200000, 65536)]);

        Assert.Equal((100000u, 200000u), request.RootOnHost());
    }

    public static TheoryData<RuntimeSpec, string> Refused => new()
    {
        { Spec([new() { Type = "pid" }], [Map(0, 100000, 65536)], null), "are set but linux.namespaces has no user namespace" },
        { Spec([NewUser], null, null), "a new user namespace needs linux.uidMappings and linux.gidMappings" },
        { Spec([NewUser], [Map(0, 100000, 65536)], null), "a new user namespace needs linux.uidMappings and linux.gidMappings" },
        { Spec([NewUser, new() { Type = "user" }], [Map(0, 1, 1)], [Map(0, 1, 1)]), "listed more than once" },
        { Spec([NewUser], [Map(0, 100000, 0)], [Map(0, 100000, 1)]), "linux.uidMappings: {containerID 0, hostID 100000, size 0} maps no ids" },
        { Spec([NewUser], [Map(0, 100000, 10), Map(5, 200000, 10)], [Map(0, 1, 1)]), "overlap inside the container" },
        { Spec([NewUser], [Map(0, 1, 1)], [Map(0, 100000, 10), Map(10, 100009, 10)]), "linux.gidMappings: {containerID 10, hostID 100009, size 10} and {containerID 0, hostID 100000, size 10} overlap on the host" },
        { Spec([NewUser], [Map(0, 4294967290, 6)], [Map(0, 1, 1)]), "goes past the largest id" },
        { Spec([NewUser], [Map(uint.MaxValue - 1, 1, 2)], [Map(0, 1, 1)]), "goes past the largest id" },
        { Spec([NewUser], [Map(1, 100000, 10)], [Map(0, 1, 1)]), "linux.uidMappings: no range maps id 0" },
        { Spec([NewUser], [.. Enumerable.Range(0, 341).Select(i => Map((uint)i, 100000 + (uint)i, 1))], [Map(0, 1, 1)]), "341 ranges; the kernel takes at most 340" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void FromSpec_BadConfiguration_IsRefusedNamingTheProblem(RuntimeSpec spec, string expected)
    {
        var exception = Assert.Throws<InvalidArgumentException>(() => UserNamespaceConfig.FromSpec(spec));

        Assert.Contains(expected, exception.Message);
    }

    [Fact]
    public void FromSpec_NullMapEntry_IsRefused()
    {
        var spec = Spec([NewUser], [null!], [Map(0, 1, 1)]);

        var exception = Assert.Throws<InvalidArgumentException>(() => UserNamespaceConfig.FromSpec(spec));

        Assert.Contains("linux.uidMappings: an entry is null", exception.Message);
    }
}
