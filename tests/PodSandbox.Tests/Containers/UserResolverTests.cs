using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Containers;

namespace CriOci.PodSandbox.Tests.Containers;

public sealed class UserResolverTests : IDisposable
{
    private const string Passwd = """
        # comment lines are skipped
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        alice:x:1000:1000:Alice:/home/alice:/bin/sh
        bob:x:1001:1500::/home/bob:/bin/sh
        broken:x:notanumber:1
        """;

    private const string Group = """
        root:x:0:
        daemon:x:1:
        wheel:x:10:alice,bob
        audio:x:29:alice
        alice:x:1000:
        staff:x:1500:
        video:x:44:carol
        """;

    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-users-").FullName;
    private readonly string _rootfs;

    public UserResolverTests()
    {
        _rootfs = Path.Combine(_temp, "rootfs");
        Directory.CreateDirectory(Path.Combine(_rootfs, "etc"));
        File.WriteAllText(Path.Combine(_rootfs, "etc", "passwd"), Passwd + "\n");
        File.WriteAllText(Path.Combine(_rootfs, "etc", "group"), Group + "\n");
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static LinuxContainerSecurityContext Security(Action<LinuxContainerSecurityContext> change)
    {
        var security = new LinuxContainerSecurityContext();
        change(security);
        return security;
    }

    public static TheoryData<string, string?, ResolvedUser> ImageUserCases => new()
    {
        { "no user: root", null, new ResolvedUser(0, 0, []) },
        { "empty user: root", "", new ResolvedUser(0, 0, []) },
        { "name: passwd uid, gid and memberships", "alice", new ResolvedUser(1000, 1000, [10, 29]) },
        { "uid of a known user: same as its name", "1000", new ResolvedUser(1000, 1000, [10, 29]) },
        { "unknown uid: gid 0, no groups", "4242", new ResolvedUser(4242, 0, []) },
        { "uid:gid", "4242:4343", new ResolvedUser(4242, 4343, []) },
        { "name:group", "alice:staff", new ResolvedUser(1000, 1500, [10, 29]) },
        { "name:gid", "bob:29", new ResolvedUser(1001, 29, [10]) },
        { "uid:group name", "1001:wheel", new ResolvedUser(1001, 10, []) },
        { "user with trailing colon", "alice:", new ResolvedUser(1000, 1000, [10, 29]) },
    };

    [Theory]
    [MemberData(nameof(ImageUserCases))]
    public void Resolve_ImageUser_ResolvesAgainstImageFiles(string name, string? imageUser, ResolvedUser expected)
    {
        var user = UserResolver.Resolve(_rootfs, null, imageUser);

        Assert.True(expected.Uid == user.Uid && expected.Gid == user.Gid && expected.AdditionalGids.SequenceEqual(user.AdditionalGids),
            $"{name}: got {user.Uid}:{user.Gid} [{string.Join(",", user.AdditionalGids)}]");
    }

    [Fact]
    public void Resolve_RunAsUser_OverridesImageUserAndTakesPasswdGroup()
    {
        var security = Security(s => s.RunAsUser = new Int64Value { Value = 1001 });

        var user = UserResolver.Resolve(_rootfs, security, "alice");

        Assert.Equal(1001u, user.Uid);
        Assert.Equal(1500u, user.Gid);
        Assert.Equal([10u], user.AdditionalGids);
    }

    [Fact]
    public void Resolve_RunAsUserUnknownToPasswd_GetsGidZero()
    {
        var user = UserResolver.Resolve(_rootfs, Security(s => s.RunAsUser = new Int64Value { Value = 65534 }), null);

        Assert.Equal(new ResolvedUser(65534, 0, []).Uid, user.Uid);
        Assert.Equal(0u, user.Gid);
        Assert.Empty(user.AdditionalGids);
    }

    [Fact]
    public void Resolve_RunAsUsername_LooksUpTheName()
    {
        var user = UserResolver.Resolve(_rootfs, Security(s => s.RunAsUsername = "bob"), "alice");

        Assert.Equal(1001u, user.Uid);
        Assert.Equal(1500u, user.Gid);
        Assert.Equal([10u], user.AdditionalGids);
    }

    [Fact]
    public void Resolve_RunAsGroup_OverridesTheGid()
    {
        var security = Security(s =>
        {
            s.RunAsUser = new Int64Value { Value = 1000 };
            s.RunAsGroup = new Int64Value { Value = 3000 };
        });

        var user = UserResolver.Resolve(_rootfs, security, null);

        Assert.Equal(1000u, user.Uid);
        Assert.Equal(3000u, user.Gid);
        Assert.Equal([10u, 29u], user.AdditionalGids);
    }

    [Fact]
    public void Resolve_SupplementalGroups_AreAddedOnceAfterMemberships()
    {
        var security = Security(s => s.SupplementalGroups.Add([5000, 10, 1000, 5000]));

        var user = UserResolver.Resolve(_rootfs, security, "alice");

        Assert.Equal(1000u, user.Gid);
        Assert.Equal([10u, 29u, 5000u], user.AdditionalGids);
    }

    [Fact]
    public void Resolve_StrictPolicy_GivesOnlyTheRequestedGroups()
    {
        var security = Security(s =>
        {
            s.SupplementalGroups.Add([5000, 10]);
            s.SupplementalGroupsPolicy = SupplementalGroupsPolicy.Strict;
        });

        var user = UserResolver.Resolve(_rootfs, security, "alice");

        // alice's image memberships (audio, 29) are left out; wheel stays because it was asked for.
        Assert.Equal(1000u, user.Gid);
        Assert.Equal([5000u, 10u], user.AdditionalGids);
    }

    [Theory]
    [InlineData("mallory", "user mallory")]
    [InlineData("alice:nogroup", "group nogroup")]
    [InlineData("broken", "user broken")]
    public void Resolve_UnknownNameInImageUser_ThrowsInvalidArgumentNamingIt(string imageUser, string message)
    {
        var exception = Assert.Throws<InvalidArgumentException>(() => UserResolver.Resolve(_rootfs, null, imageUser));

        Assert.Contains(message, exception.Message);
    }

    [Fact]
    public void Resolve_UnknownRunAsUsername_ThrowsInvalidArgument()
    {
        Assert.Throws<InvalidArgumentException>(() => UserResolver.Resolve(_rootfs, Security(s => s.RunAsUsername = "mallory"), null));
    }

    [Fact]
    public void Resolve_NoEtcFiles_NumericUsersStillWork()
    {
        File.Delete(Path.Combine(_rootfs, "etc", "passwd"));
        File.Delete(Path.Combine(_rootfs, "etc", "group"));

        var user = UserResolver.Resolve(_rootfs, null, "123:456");

        Assert.Equal(123u, user.Uid);
        Assert.Equal(456u, user.Gid);
        Assert.Empty(user.AdditionalGids);
    }

    public static TheoryData<string, bool> HostileLinkCases => new()
    {
        { "absolute", true },
        { "relative", false },
    };

    [Theory]
    [MemberData(nameof(HostileLinkCases))]
    public void Resolve_PasswdSymlinkToHostFile_DoesNotReadTheHostFile(string kind, bool absolute)
    {
        // A host file (outside the rootfs) with an entry the image does not have.
        var hostDirectory = Path.Combine(_temp, "host-etc");
        Directory.CreateDirectory(hostDirectory);
        var hostPasswd = Path.Combine(hostDirectory, "passwd");
        File.WriteAllText(hostPasswd, "hostonly:x:4242:4242::/:/bin/sh\n");
        var hostGroup = Path.Combine(hostDirectory, "group");
        File.WriteAllText(hostGroup, "hostgroup:x:4343:\n");
        var imagePasswd = Path.Combine(_rootfs, "etc", "passwd");
        var imageGroup = Path.Combine(_rootfs, "etc", "group");
        File.Delete(imagePasswd);
        File.Delete(imageGroup);
        File.CreateSymbolicLink(imagePasswd, absolute ? hostPasswd : "../../../../../../../../.." + hostPasswd);
        File.CreateSymbolicLink(imageGroup, absolute ? hostGroup : "../../../../../../../../.." + hostGroup);

        var byName = Record.Exception(() => UserResolver.Resolve(_rootfs, null, "hostonly"));
        var byGroup = Record.Exception(() => UserResolver.Resolve(_rootfs, null, "0:hostgroup"));
        var byUid = UserResolver.Resolve(_rootfs, null, "4242");

        Assert.True(byName is InvalidArgumentException, $"{kind}: the host's passwd was read ({byName?.Message ?? "resolved"})");
        Assert.True(byGroup is InvalidArgumentException, $"{kind}: the host's group was read ({byGroup?.Message ?? "resolved"})");
        Assert.Equal(0u, byUid.Gid);
    }

    [Fact]
    public void Resolve_EtcSymlinkToHostDirectory_DoesNotReadTheHostFile()
    {
        var hostDirectory = Path.Combine(_temp, "host-etc");
        Directory.CreateDirectory(hostDirectory);
        File.WriteAllText(Path.Combine(hostDirectory, "passwd"), "hostonly:x:4242:4242::/:/bin/sh\n");
        Directory.Delete(Path.Combine(_rootfs, "etc"), recursive: true);
        File.CreateSymbolicLink(Path.Combine(_rootfs, "etc"), hostDirectory);

        var exception = Record.Exception(() => UserResolver.Resolve(_rootfs, null, "hostonly"));

        Assert.IsType<InvalidArgumentException>(exception);
    }

    [Fact]
    public void Resolve_PasswdSymlinkInsideImage_IsFollowedWithinTheRootfs()
    {
        var imagePasswd = Path.Combine(_rootfs, "etc", "passwd");
        Directory.CreateDirectory(Path.Combine(_rootfs, "usr", "lib"));
        File.Move(imagePasswd, Path.Combine(_rootfs, "usr", "lib", "passwd"));
        File.CreateSymbolicLink(imagePasswd, "/usr/lib/passwd");

        var user = UserResolver.Resolve(_rootfs, null, "alice");

        Assert.Equal(1000u, user.Uid);
    }
}
