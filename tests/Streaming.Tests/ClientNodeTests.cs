using System.Text.Json;
using CriOci.Streaming.Tests.Support;
using static CriOci.Streaming.Tests.Spdy.SpdyRemoteCommandTests;

namespace CriOci.Streaming.Tests;

/// <summary>
/// A third-party client: the official Kubernetes JavaScript client (@kubernetes/client-node from
/// npm, run by node) execs through the WebSocket protocol. Needs node and npm on PATH; the
/// package is installed with npm next to the script on first use. Missing tools fail the test.
/// </summary>
public sealed class ClientNodeTests : IAsyncLifetime
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private StreamingTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamingTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ClientNodeExec_StdinToCat_OutputAndSuccessStatus()
    {
        var url = _host.Server.RegisterExec(Exec(["cat"], stdin: true, stdout: true, stderr: true)).Url;

        var result = await RunExecScriptAsync(url, "hello from node\n");

        Assert.Equal("v5.channel.k8s.io", result.GetProperty("protocol").GetString());
        Assert.Equal("hello from node\n", result.GetProperty("stdout").GetString());
        Assert.Equal("Success", result.GetProperty("status").GetProperty("status").GetString());
        await _host.Runtime.StdinEof;
    }

    [Fact]
    public async Task ClientNodeExec_NonZeroExit_StatusWithExitCode()
    {
        var url = _host.Server.RegisterExec(Exec(["sh", "-c", "echo oops >&2; exit 3"], stdout: true, stderr: true)).Url;

        var result = await RunExecScriptAsync(url, stdin: null);

        Assert.Equal("oops\n", result.GetProperty("stderr").GetString());
        var status = result.GetProperty("status");
        Assert.Equal("Failure", status.GetProperty("status").GetString());
        Assert.Equal("NonZeroExitCode", status.GetProperty("reason").GetString());
        Assert.Equal("3", status.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
    }

    private static async Task<JsonElement> RunExecScriptAsync(string url, string? stdin)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "ClientNode");
        await EnsureInstalledAsync(directory);
        var arguments = new List<string> { "exec.mjs", url };
        if (stdin is not null)
        {
            arguments.Add(stdin);
        }
        var (exitCode, output, error) = await ProcessRunner.RunAsync("node", arguments, environment: null, directory);
        Assert.True(exitCode == 0, $"node exec.mjs failed ({exitCode}): {error}");
        return JsonDocument.Parse(output).RootElement;
    }

    private static async Task EnsureInstalledAsync(string directory)
    {
        await InstallLock.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(directory, "node_modules", "@kubernetes", "client-node")))
            {
                return;
            }
            var (exitCode, _, error) = await ProcessRunner.RunAsync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], environment: null, directory);
            Assert.True(exitCode == 0, $"npm install @kubernetes/client-node failed ({exitCode}): {error}");
        }
        finally
        {
            InstallLock.Release();
        }
    }
}
