using System.Text.Json;
using CriOci.Streaming.Tests.Support;
using CriOci.TestSupport;
using static CriOci.Streaming.Tests.Spdy.SpdyRemoteCommandTests;

namespace CriOci.Streaming.Tests.GoSpdy;

/// <summary>
/// A third-party SPDY client: spdyexec.go, built here against github.com/docker/spdystream
/// (Debian's golang-github-docker-spdystream-dev, the library under kubelet's, kubectl's and
/// crictl's SPDY), runs execs the way client-go's remotecommand does, and spdyportforward.go
/// forwards the way client-go's portforward does. spdystream never sends
/// WINDOW_UPDATE, so a large output also proves the server does not stall such peers.
/// Needs go and that package (scripts/install-test-deps.sh); missing ones fail the test. The clients live in
/// tests/TestSupport/GoSpdy, shared with the e2e tests.
/// </summary>
public sealed class GoSpdystreamTests : IAsyncLifetime
{
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Spdystream_ExecWithStdin_OutputAndSuccessStatus()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true, stderr: true)).Url;

        var result = await RunAsync(url, "v4.channel.k8s.io", "through spdystream\n");

        Assert.Equal("through spdystream\n", result.GetProperty("stdout").GetString());
        Assert.Equal("""{"metadata":{},"status":"Success"}""", result.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Spdystream_NonZeroExit_StderrAndExitCodeStatus()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo bad >&2; exit 3"], stdout: true, stderr: true)).Url;

        var result = await RunAsync(url, "v4.channel.k8s.io", stdin: null);

        Assert.Equal("bad\n", result.GetProperty("stderr").GetString());
        var status = StatusOf(result.GetProperty("error").GetString()!);
        Assert.Equal("NonZeroExitCode", status.GetProperty("reason").GetString());
        Assert.Equal("3", status.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Spdystream_OutputBeyondTheInitialWindow_ArrivesWhole()
    {
        const int Total = 1_000_000;
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", $"yes | head -c {Total}"], stdout: true, stderr: true)).Url;

        var result = await RunAsync(url, "v4.channel.k8s.io", stdin: null);

        Assert.Equal(Total, result.GetProperty("stdout").GetString()!.Length);
        Assert.Equal("Success", StatusOf(result.GetProperty("error").GetString()!).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Spdystream_V2Protocol_SuccessLeavesErrorStreamEmpty()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo v2"], stdout: true, stderr: true)).Url;

        var result = await RunAsync(url, "v2.channel.k8s.io", stdin: null);

        Assert.Equal("v2\n", result.GetProperty("stdout").GetString());
        Assert.Equal("", result.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Spdystream_PortForwardPairsAtOnce_ClosedPortFailsAloneOthersEcho()
    {
        await using var first = new EchoServer("one:");
        await using var second = new EchoServer("two:");
        var closedPort = StreamingTestHost.FreePort();
        var url = _host.Server.RegisterPortForward(new CriOci.Cri.V1.PortForwardRequest { PodSandboxId = "pod1" }).Url;

        var binary = await GoSpdyClients.BuildAsync("spdyportforward");
        var (exitCode, output, error) = await ProcessRunner.RunAsync(binary, [url, first.Port.ToString(), closedPort.ToString(), second.Port.ToString()], environment: null);

        Assert.True(exitCode == 0, $"spdyportforward failed ({exitCode}): {error}");
        var results = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal($"one:hello {first.Port}", results[0].GetProperty("data").GetString());
        Assert.Equal("", results[0].GetProperty("error").GetString());
        Assert.Equal("", results[1].GetProperty("data").GetString());
        Assert.Contains($"error forwarding port {closedPort} to pod pod1", results[1].GetProperty("error").GetString());
        Assert.Equal($"two:hello {second.Port}", results[2].GetProperty("data").GetString());
        Assert.Equal("", results[2].GetProperty("error").GetString());
        await _host.WaitForIdleAsync();
    }

    private static async Task<JsonElement> RunAsync(string url, string protocol, string? stdin)
    {
        var binary = await GoSpdyClients.BuildAsync("spdyexec");
        var arguments = new List<string> { url, protocol };
        if (stdin is not null)
        {
            arguments.Add(stdin);
        }
        var (exitCode, output, error) = await ProcessRunner.RunAsync(binary, arguments, environment: null);
        Assert.True(exitCode == 0, $"spdyexec failed ({exitCode}): {error}");
        return JsonDocument.Parse(output).RootElement;
    }
}
