using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.Streaming.Tests.Support;

namespace CriOci.Streaming.Tests.Spdy;

/// <summary>Exec and attach over SPDY/3.1 with the remotecommand subprotocols, against real processes.</summary>
public sealed class SpdyRemoteCommandTests : IAsyncLifetime
{
    private const string V4 = "v4.channel.k8s.io";
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Exec_Echo_StdoutAndSuccessStatus()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo hello"], stdout: true)).Url;
        var (response, client) = await SpdyTestClient.ConnectAsync(url, [V4, "v3.channel.k8s.io"]);
        await using var _ = client!;

        Assert.Equal(101, response.StatusCode);
        Assert.Equal("SPDY/3.1", response.Header("Upgrade"));
        Assert.Equal(V4, response.Header("X-Stream-Protocol-Version"));
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        Assert.Equal("hello\n", await stdout.ReadTextToEndAsync());
        Assert.Equal("""{"metadata":{},"status":"Success"}""", await error.ReadTextToEndAsync());
        await client.GoAwayReceived;
        await _host.WaitForIdleAsync();
    }

    [Fact]
    public async Task Exec_StdinWithFin_ReachesProcessAndEndsIt()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdin = await client.OpenStreamAsync(("streamType", "stdin"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        await stdin.SendAsync("first line\n");
        Assert.Equal("first line\n", await stdout.ReadUntilAsync("\n"));
        await stdin.SendAsync("second", fin: true);

        Assert.Equal("second", await stdout.ReadTextToEndAsync());
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
        await _host.Runtime.StdinEof;
    }

    [Fact]
    public async Task Exec_NonZeroExit_StatusCarriesExitCode()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "exit 3"], stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        var status = StatusOf(await error.ReadTextToEndAsync());

        Assert.Equal("", await stdout.ReadTextToEndAsync());
        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal("NonZeroExitCode", status.GetProperty("reason").GetString());
        var cause = Assert.Single(status.GetProperty("details").GetProperty("causes").EnumerateArray());
        Assert.Equal("ExitCode", cause.GetProperty("reason").GetString());
        Assert.Equal("3", cause.GetProperty("message").GetString());
        Assert.StartsWith("command terminated with non-zero exit code: ", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Exec_StdoutAndStderr_StaySeparate()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo out; echo err >&2"], stdout: true, stderr: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));
        var stderr = await client.OpenStreamAsync(("streamType", "stderr"));

        Assert.Equal("out\n", await stdout.ReadTextToEndAsync());
        Assert.Equal("err\n", await stderr.ReadTextToEndAsync());
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Exec_StoppedContainer_InternalErrorStatusWithRuntimeMessage()
    {
        var url = _host.Server.RegisterExec(new ExecRequest { ContainerId = HostProcessRuntime.StoppedContainer, Cmd = { "true" }, Stdout = true }).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        await client.OpenStreamAsync(("streamType", "stdout"));

        var status = StatusOf(await error.ReadTextToEndAsync());

        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal("InternalError", status.GetProperty("reason").GetString());
        Assert.Contains("is not running", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Exec_TtyWithResize_RealTerminalGetsTheSize()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "read line; stty size; echo \"got $line\""], stdin: true, stdout: true, tty: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdin = await client.OpenStreamAsync(("streamType", "stdin"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));
        var resize = await client.OpenStreamAsync(("streamType", "resize"));

        await resize.SendAsync("""{"Width":100,"Height":40}""" + "\n");
        await _host.Runtime.WaitForResizesAsync(1);
        await stdin.SendAsync("go\n");

        var output = await stdout.ReadUntilAsync("got go");
        Assert.Contains("40 100", output);
        Assert.Equal(new TerminalSize(100, 40), Assert.Single(_host.Runtime.Resizes));
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Attach_StdinAndStdout_ConnectToTheContainerProcess()
    {
        _host.Runtime.AttachCommands["web"] = ["cat"];
        var url = _host.Server.RegisterAttach(new AttachRequest { ContainerId = "web", Stdin = true, Stdout = true }).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdin = await client.OpenStreamAsync(("streamType", "stdin"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        await stdin.SendAsync("attached\n", fin: true);

        Assert.Equal("attached\n", await stdout.ReadTextToEndAsync());
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
        Assert.Contains("attach web", _host.Runtime.Calls);
    }

    [Theory]
    [InlineData("v2.channel.k8s.io")]
    [InlineData("channel.k8s.io")]
    public async Task Exec_BeforeV4_ErrorStreamCarriesPlainText(string protocol)
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "exit 5"], stdout: true)).Url;
        var (response, client) = await SpdyTestClient.ConnectAsync(url, [protocol]);
        await using var _ = client!;
        Assert.Equal(protocol, response.Header("X-Stream-Protocol-Version"));
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        await client.OpenStreamAsync(("streamType", "stdout"));

        var text = await error.ReadTextToEndAsync();

        Assert.StartsWith("command terminated with non-zero exit code: ", text);
        Assert.EndsWith("exit code 5", text);
    }

    [Fact]
    public async Task Handshake_UnknownSubprotocol_403WithSupportedListAndNothingRuns()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;

        var (response, client) = await SpdyTestClient.ConnectAsync(url, ["v9.channel.k8s.io"]);

        Assert.Null(client);
        Assert.Equal(403, response.StatusCode);
        Assert.Equal("v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io", response.Header("X-Accepted-Stream-Protocol-Versions"));
        Assert.Contains("v4.channel.k8s.io", response.Body);
        Assert.Empty(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Handshake_NoProtocolHeader_400AndNothingRuns()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;

        var (response, client) = await SpdyTestClient.ConnectAsync(url, []);

        Assert.Null(client);
        Assert.Equal(400, response.StatusCode);
        Assert.Empty(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Token_UsedTwice_SecondIs404AndRunsNothing()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo once"], stdout: true)).Url;
        var (_, first) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using (first)
        {
            var error = await first!.OpenStreamAsync(("streamType", "error"));
            await first.OpenStreamAsync(("streamType", "stdout"));
            await error.ReadToEndAsync();
        }

        var (response, second) = await SpdyTestClient.ConnectAsync(url, [V4]);

        Assert.Null(second);
        Assert.Equal(404, response.StatusCode);
        Assert.Single(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Token_Expired_404AndRunsNothing()
    {
        var url = _host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;
        _host.Time.Advance(StreamingOptions.DefaultTokenLifetime + TimeSpan.FromSeconds(1));

        var (response, client) = await SpdyTestClient.ConnectAsync(url, [V4]);

        Assert.Null(client);
        Assert.Equal(404, response.StatusCode);
        Assert.Empty(_host.Runtime.Calls);
    }

    [Fact]
    public async Task Client_DisconnectsMidStream_ProcessCancelledStdinEndsNothingLeft()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        await client!.OpenStreamAsync(("streamType", "error"));
        var stdin = await client.OpenStreamAsync(("streamType", "stdin"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));
        await stdin.SendAsync("still here\n");
        await stdout.ReadUntilAsync("still here");

        client.Abort();

        await _host.Runtime.Cancelled;
        await _host.WaitForIdleAsync();
        Assert.Equal(0, _host.Runtime.Running);
    }

    [Fact]
    public async Task FlowControl_ClientWithSmallWindow_ServerNeverSendsBeyondIt()
    {
        const int Total = 300_000;
        var url = _host.Server.RegisterExec(Exec(["head", "-c", Total.ToString(), "/dev/zero"], stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4], initialWindow: 4096);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        Assert.Equal(Total, (await stdout.ReadToEndAsync()).Length);
        Assert.Equal(0, client.FlowControlViolations);
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task FlowControl_ClientWithoutWindowUpdates_LikeSpdystream_GetsEverything()
    {
        // moby/spdystream, used by kubectl and crictl, never sends WINDOW_UPDATE.
        const int Total = 300_000;
        var url = _host.Server.RegisterExec(Exec(["head", "-c", Total.ToString(), "/dev/zero"], stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        var error = await client!.OpenStreamAsync(("streamType", "error"));
        var stdout = await client.OpenStreamAsync(("streamType", "stdout"));

        Assert.Equal(Total, (await stdout.ReadToEndAsync()).Length);
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ping_FromClient_IsEchoed()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;

        await client!.PingAsync(7);

        var error = await client.OpenStreamAsync(("streamType", "error"));
        var stdin = await client.OpenStreamAsync(("streamType", "stdin"));
        await client.OpenStreamAsync(("streamType", "stdout"));
        await stdin.CloseAsync();
        Assert.Equal("Success", StatusOf(await error.ReadTextToEndAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Streams_NeverAllCreated_SessionEndsAfterTimeoutWithoutRunning()
    {
        await using var host = await StreamingTestHost.StartAsync(options => options with { StreamCreationTimeout = TimeSpan.FromMilliseconds(300) });
        var url = host.Server.RegisterExec(Exec(["true"], stdout: true)).Url;
        var (_, client) = await SpdyTestClient.ConnectAsync(url, [V4]);
        await using var _ = client!;
        await client!.OpenStreamAsync(("streamType", "error"));

        await client.ReadLoop;

        Assert.Empty(host.Runtime.Calls);
        await host.WaitForIdleAsync();
    }

    internal static ExecRequest Exec(string[] command, bool stdin = false, bool stdout = false, bool stderr = false, bool tty = false)
    {
        var request = new ExecRequest { ContainerId = "c1", Stdin = stdin, Stdout = stdout, Stderr = stderr, Tty = tty };
        request.Cmd.AddRange(command);
        return request;
    }

    internal static JsonElement StatusOf(string json) => JsonDocument.Parse(json).RootElement;
}
