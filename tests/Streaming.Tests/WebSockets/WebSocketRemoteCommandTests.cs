using CriOci.TestSupport;
using CriOci.Cri.V1;
using CriOci.Streaming.Tests.Support;
using static CriOci.Streaming.Tests.Spdy.SpdyRemoteCommandTests;

namespace CriOci.Streaming.Tests.WebSockets;

/// <summary>Exec and attach over WebSocket (v5 and v4 channel protocols), against real processes.</summary>
public sealed class WebSocketRemoteCommandTests : IAsyncLifetime
{
    private const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4;
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("v5.channel.k8s.io")]
    [InlineData("v4.channel.k8s.io")]
    public async Task Exec_Echo_StdoutThenSuccessStatusThenClose(string protocol)
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo hello"], stdout: true)).Url;

        await using var session = await WebSocketTestSession.ConnectAsync(url, protocol);
        await session.WaitClosedAsync();

        Assert.Equal(protocol, session.Protocol);
        // kubelet announces the session with an empty message on the first output channel.
        Assert.Equal([Stdout], session.Messages.First());
        Assert.Equal("hello\n", session.Text(Stdout));
        Assert.Equal("""{"metadata":{},"status":"Success"}""", session.Text(Error));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, session.CloseStatus);
        await _host.WaitForIdleAsync();
    }

    [Fact]
    public async Task Exec_V4Base64_TextMessagesWithDigitChannelAndBase64Payload()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo hello"], stdout: true)).Url;

        await using var session = await WebSocketTestSession.ConnectAsync(url, "v4.base64.channel.k8s.io");
        await session.WaitClosedAsync();

        Assert.Equal("hello\n", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(session.Text((byte)'1'))));
        var status = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(session.Text((byte)'3')));
        Assert.Equal("Success", StatusOf(status).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Exec_V5CloseSignal_GivesStdinEof()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true)).Url;
        await using var session = await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io");

        await session.SendAsync(Stdin, "to cat\n");
        await session.ReadUntilAsync(Stdout, "to cat\n");
        await session.SendRawAsync([255, Stdin]);
        await session.WaitClosedAsync();

        Assert.Equal("to cat\n", session.Text(Stdout));
        Assert.Equal("Success", StatusOf(session.Text(Error)).GetProperty("status").GetString());
        await _host.Runtime.StdinEof;
    }

    [Fact]
    public async Task Exec_V4NonZeroExit_StatusCarriesExitCode()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo out; echo err >&2; exit 3"], stdout: true, stderr: true)).Url;

        await using var session = await WebSocketTestSession.ConnectAsync(url, "v4.channel.k8s.io");
        await session.WaitClosedAsync();

        Assert.Equal("out\n", session.Text(Stdout));
        Assert.Equal("err\n", session.Text(Stderr));
        var status = StatusOf(session.Text(Error));
        Assert.Equal("NonZeroExitCode", status.GetProperty("reason").GetString());
        Assert.Equal("3", status.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Exec_TtyWithResize_RealTerminalGetsTheSize()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "read line; stty size"], stdin: true, stdout: true, tty: true)).Url;
        await using var session = await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io");

        await session.SendAsync(Resize, """{"Width":132,"Height":50}""");
        await _host.Runtime.WaitForResizesAsync(1);
        await session.SendAsync(Stdin, "go\n");
        await session.WaitClosedAsync();

        Assert.Contains("50 132", session.Text(Stdout));
        Assert.Equal(new TerminalSize(132, 50), Assert.Single(_host.Runtime.Resizes));
        Assert.Equal("Success", StatusOf(session.Text(Error)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Attach_V5_StdinRoundTrip()
    {
        _host.Runtime.AttachCommands["web"] = ["cat"];
        var url = _host.Server.RegisterAttach(new AttachRequest { ContainerId = "web", Stdin = true, Stdout = true }).Url;
        await using var session = await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io");

        await session.SendAsync(Stdin, "attached\n");
        await session.SendRawAsync([255, Stdin]);
        await session.WaitClosedAsync();

        Assert.Equal("attached\n", session.Text(Stdout));
        Assert.Equal("Success", StatusOf(session.Text(Error)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Handshake_UnknownSubprotocol_RefusedAndNothingRuns()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;

        var (statusCode, _) = await WebSocketTestSession.ConnectRefusedAsync(url, "v9.channel.k8s.io");

        Assert.Equal(403, statusCode);
        Assert.Empty(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Handshake_UnknownSubprotocol_BodyListsSupported()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(new byte[16]));
        request.Headers.Add("Sec-WebSocket-Protocol", "v9.channel.k8s.io");

        using var response = await http.SendAsync(request);

        Assert.Equal(403, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("v5.channel.k8s.io", body);
        Assert.Contains("v4.channel.k8s.io", body);
    }

    [Fact]
    public async Task Token_Reused_404()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;
        await using (var first = await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io"))
        {
            await first.WaitClosedAsync();
        }

        var (statusCode, _) = await WebSocketTestSession.ConnectRefusedAsync(url, "v5.channel.k8s.io");

        Assert.Equal(404, statusCode);
        Assert.Single(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Token_Expired_404AndNothingRuns()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;
        _host.Time.Advance(StreamingOptions.DefaultTokenLifetime);

        var (statusCode, _) = await WebSocketTestSession.ConnectRefusedAsync(url, "v5.channel.k8s.io");

        Assert.Equal(404, statusCode);
        Assert.Empty(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Client_DisconnectsMidStream_ProcessCancelledNothingLeft()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true)).Url;
        await using var session = await WebSocketTestSession.ConnectAsync(url, "v5.channel.k8s.io");
        await session.SendAsync(Stdin, "still here\n");
        await session.ReadUntilAsync(Stdout, "still here");

        session.Abort();

        await _host.Runtime.Cancelled;
        await _host.WaitForIdleAsync();
        Assert.Equal(0, _host.Runtime.Running);
    }
}
