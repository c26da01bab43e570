using CriOci.TestSupport;
using System.Buffers.Binary;
using CriOci.Cri.V1;
using CriOci.Streaming.Tests.Support;

namespace CriOci.Streaming.Tests.WebSockets;

/// <summary>Port forwarding over WebSocket (kubelet's v4.channel.k8s.io port-forward protocol) to real TCP listeners.</summary>
public sealed class WebSocketPortForwardTests : IAsyncLifetime
{
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PortForward_TwoPorts_OneClosed_ErrorOnItsChannelOnlyOtherWorks()
    {
        await using var echo = new EchoServer("up:");
        var closedPort = StreamingTestHost.FreePort();
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;
        await using var session = await WebSocketTestSession.ConnectAsync($"{url}?port={echo.Port}&port={closedPort}", "v4.channel.k8s.io");

        // Channel 2i+1 of the closed port gets its port, then the error.
        var failure = await session.ReadUntilAsync(3, "error forwarding port");
        Assert.Contains($"error forwarding port {closedPort} to pod pod1", failure);
        // The first message of every channel is its port, little-endian.
        Assert.Equal(PortBytes(echo.Port), session.Messages.First(message => message[0] == 0)[1..]);
        Assert.Equal(PortBytes(echo.Port), session.Messages.First(message => message[0] == 1)[1..]);
        Assert.Equal(PortBytes(closedPort), session.Messages.First(message => message[0] == 2)[1..]);

        await session.ReadUntilAsync(0, "up:");
        await session.SendAsync(0, "through the socket");
        await session.ReadUntilAsync(0, "through the socket");
        // The port only, no error, for the working port (counted in bytes: two port bytes may decode as one UTF-8 character).
        Assert.Equal(2, session.Messages.Where(message => message[0] == 1).Sum(message => message.Length - 1));
        await session.CloseAsync();
        await _host.WaitForIdleAsync();
    }

    [Fact]
    public async Task PortForward_NoPortInQuery_UsesRegisteredPorts()
    {
        await using var echo = new EchoServer("registered:");
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1", Port = { echo.Port } }).Url;
        await using var session = await WebSocketTestSession.ConnectAsync(url, "v4.channel.k8s.io");

        await session.ReadUntilAsync(0, "registered:");

        Assert.Contains($"port-forward pod1 {echo.Port}", _host.Runtime.Calls);
    }

    private static byte[] PortBytes(int port)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)port);
        return bytes;
    }
}
