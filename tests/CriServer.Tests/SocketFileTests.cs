using System.Net.Sockets;

namespace CriOci.CriServer.Tests;

public sealed class SocketFileTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("crioci-sock-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public async Task RemoveStaleAsync_NobodyListening_Removed()
    {
        // Bound but never listening, so connect(2) is refused as for a dead daemon's file; kept
        // open because .NET unlinks the file of a socket it bound when disposing it.
        var path = Path.Combine(root.FullName, "stale.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));

        await SocketFile.RemoveStaleAsync(path, CancellationToken.None);

        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task RemoveStaleAsync_LiveServer_ThrowsAndKeepsSocket()
    {
        var path = Path.Combine(root.FullName, "live.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen();

        var error = await Assert.ThrowsAsync<DaemonConfigException>(() => SocketFile.RemoveStaleAsync(path, CancellationToken.None));

        Assert.Equal($"socket {path} is served by another process", error.Message);
        Assert.True(File.Exists(path));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("0", 0u)]
    [InlineData("4242", 4242u)]
    [InlineData("crictl-users", 1500u)]
    public void ResolveGroup_NumberNameOrNone(string? group, uint? expected)
    {
        var groupFile = Path.Combine(root.FullName, "group");
        File.WriteAllText(groupFile, "root:x:0:\nbroken\ncrictl-users:x:1500:alice\n");

        Assert.Equal(expected, SocketFile.ResolveGroup(group, groupFile));
    }

    [Fact]
    public void ResolveGroup_UnknownName_ThrowsNamingTheKeyAndGroup()
    {
        var groupFile = Path.Combine(root.FullName, "group");
        File.WriteAllText(groupFile, "root:x:0:\n");

        var error = Assert.Throws<DaemonConfigException>(() => SocketFile.ResolveGroup("wheel", groupFile));

        Assert.Equal($"socketGroup: group wheel is not in {groupFile}", error.Message);
    }
}
