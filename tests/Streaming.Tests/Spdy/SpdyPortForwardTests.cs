using CriOci.Cri.V1;
using CriOci.Streaming.Tests.Support;

namespace CriOci.Streaming.Tests.Spdy;

/// <summary>Port forwarding over SPDY (portforward.k8s.io) to real TCP listeners.</summary>
public sealed class SpdyPortForwardTests : IAsyncLifetime
{
    private const string Protocol = "portforward.k8s.io";
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task PortForward_ConcurrentRequests_EachPairReachesItsPort()
    {
        await using var first = new EchoServer("one:");
        await using var second = new EchoServer("two:");
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;
        var (response, client) = await SpdyTestClient.ConnectAsync(url, [Protocol]);
        await using var _ = client!;
        Assert.Equal(Protocol, response.Header("X-Stream-Protocol-Version"));

        var pairs = new List<(SpdyTestClient.ClientStream Error, SpdyTestClient.ClientStream Data, string Expected)>();
        for (var request = 0; request < 6; request++)
        {
            var server = request % 2 == 0 ? first : second;
            var (error, data) = await OpenPairAsync(client!, server.Port, request);
            pairs.Add((error, data, $"{server.Prefix}hello {request}"));
        }
        // All six connections are open at once before any of them is finished.
        foreach (var (_, data, _) in pairs)
        {
            await data.ReadUntilAsync(":");
        }
        for (var request = 0; request < pairs.Count; request++)
        {
            await pairs[request].Data.SendAsync($"hello {request}", fin: true);
        }

        foreach (var (error, data, expected) in pairs)
        {
            Assert.Equal(expected[(expected.IndexOf(':') + 1)..], await data.ReadTextToEndAsync());
            Assert.Equal("", await error.ReadTextToEndAsync());
        }
        Assert.Equal(3, first.Connections);
        Assert.Equal(3, second.Connections);
    }

    [Fact]
    public async Task PortForward_ClosedPort_ErrorOnThatStreamOnlyOthersContinue()
    {
        await using var echo = new EchoServer("up:");
        var closedPort = StreamingTestHost.FreePort();
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [Protocol]);
        await using var _ = client!;

        var (goodError, goodData) = await OpenPairAsync(client!, echo.Port, 1);
        var (badError, badData) = await OpenPairAsync(client!, closedPort, 2);

        var failure = await badError.ReadTextToEndAsync();
        Assert.Contains($"error forwarding port {closedPort} to pod pod1", failure);
        Assert.Empty(await badData.ReadToEndAsync());
        Assert.Equal("up:", await goodData.ReadUntilAsync(":"));
        await goodData.SendAsync("still fine", fin: true);
        Assert.Equal("still fine", await goodData.ReadTextToEndAsync());
        Assert.Equal("", await goodError.ReadTextToEndAsync());

        // The connection outlives both pairs: a third one still works.
        var (thirdError, thirdData) = await OpenPairAsync(client!, echo.Port, 3);
        await thirdData.SendAsync("again", fin: true);
        Assert.Equal("up:again", await thirdData.ReadTextToEndAsync());
        Assert.Equal("", await thirdError.ReadTextToEndAsync());
    }

    [Fact]
    public async Task PortForward_ClientHangsUp_ForwardsEndAndNothingIsLeft()
    {
        await using var echo = new EchoServer("up:");
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [Protocol]);
        await using var _ = client!;
        var (_, data) = await OpenPairAsync(client!, echo.Port, 1);
        await data.ReadUntilAsync("up:");

        client!.Abort();

        await _host.WaitForIdleAsync();
    }

    [Fact]
    public async Task PortForward_InvalidPortHeader_ErrorOnThatPairOnly()
    {
        await using var echo = new EchoServer("up:");
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [Protocol]);
        await using var _ = client!;

        var badError = await client!.OpenStreamAsync(("streamType", "error"), ("port", "http"), ("requestID", "1"));
        await client.OpenStreamAsync(("streamType", "data"), ("port", "http"), ("requestID", "1"));
        var (goodError, goodData) = await OpenPairAsync(client, echo.Port, 2);

        Assert.Contains("invalid port header http", await badError.ReadTextToEndAsync());
        await goodData.SendAsync("fine", fin: true);
        Assert.Equal("up:fine", await goodData.ReadTextToEndAsync());
        Assert.Equal("", await goodError.ReadTextToEndAsync());
        Assert.DoesNotContain(_host.Runtime.Calls, call => call.Contains("http"));
    }

    [Fact]
    public async Task PortForward_WrongSubprotocol_Refused()
    {
        var url = _host.Server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "pod1" }).Url;

        var (response, client) = await SpdyTestClient.ConnectAsync(url, ["v4.channel.k8s.io"]);

        Assert.Null(client);
        Assert.Equal(403, response.StatusCode);
        Assert.Equal(Protocol, response.Header("X-Accepted-Stream-Protocol-Versions"));
    }

    private static async Task<(SpdyTestClient.ClientStream Error, SpdyTestClient.ClientStream Data)> OpenPairAsync(SpdyTestClient client, int port, int requestId)
    {
        // kubectl's order: the error stream first, then data, both with the port and request id.
        var error = await client.OpenStreamAsync(("streamType", "error"), ("port", port.ToString()), ("requestID", requestId.ToString()));
        var data = await client.OpenStreamAsync(("streamType", "data"), ("port", port.ToString()), ("requestID", requestId.ToString()));
        return (error, data);
    }
}
