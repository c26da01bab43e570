using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// kubectl exec / attach / port-forward as they reach a node: the CRI call returns a URL, the
/// client speaks Kubernetes' streaming protocols to the daemon's streaming server, and the
/// bytes reach real processes in the pod.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class StreamingTests(RegistryFixture registry) : IAsyncLifetime
{
    private const string V5 = "v5.channel.k8s.io";
    private const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4;
    private DaemonWithPod _pod = null!;

    public async Task InitializeAsync() => _pod = await DaemonWithPod.StartAsync(registry, "streaming");

    public async Task DisposeAsync() => await _pod.DisposeAsync();

    private RuntimeService.RuntimeServiceClient Runtime => _pod.Runtime;

    private async Task<string> ExecUrlAsync(string containerId, bool stdin, bool tty, params string[] command) =>
        (await Runtime.ExecAsync(new ExecRequest { ContainerId = containerId, Cmd = { command }, Stdin = stdin, Stdout = true, Stderr = !tty, Tty = tty })).Url;

    [Fact]
    public async Task Exec_OverWebSocket_StdinRoundTripsAndTheProcessIsInThePod()
    {
        var id = await _pod.StartContainerAsync("exec", null, "sleep", "3600");
        var url = await ExecUrlAsync(id, stdin: true, tty: false, "sh", "-c", "hostname; cat");

        await using var session = await WebSocketTestSession.ConnectAsync(url, V5);
        await session.SendAsync(Stdin, "typed into the pod\n");
        await session.SendRawAsync([255, Stdin]);

        var status = await session.ReadUntilAsync(Error, "status");
        Assert.Contains("\"Success\"", status);
        Assert.Equal("streaming\ntyped into the pod\n", session.Text(Stdout));
    }

    [Fact]
    public async Task Exec_NonZeroExit_ReportsTheExitCodeAndKeepsStderrApart()
    {
        var id = await _pod.StartContainerAsync("exit", null, "sleep", "3600");
        var url = await ExecUrlAsync(id, stdin: false, tty: false, "sh", "-c", "echo out; echo err >&2; exit 3");

        await using var session = await WebSocketTestSession.ConnectAsync(url, V5);

        var status = JsonDocument.Parse(await session.ReadUntilAsync(Error, "NonZeroExitCode")).RootElement;
        Assert.Equal("3", status.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
        Assert.Equal("out\n", session.Text(Stdout));
        Assert.Equal("err\n", session.Text(Stderr));
    }

    [Fact]
    public async Task Exec_WithTty_RunsOnATerminalThatEchoesInput()
    {
        // Resizes reaching the terminal are checked where they are applied (the runtime's
        // InteractiveExecTests, on a real container) and decoded (Streaming.Tests); here the
        // whole path carries a terminal session: a pty from the container's devpts, echo, exit.
        var id = await _pod.StartContainerAsync("tty", null, "sleep", "3600");
        var url = await ExecUrlAsync(id, stdin: true, tty: true, "sh", "-c", "tty; read line; echo \"read $line\"");

        await using var session = await WebSocketTestSession.ConnectAsync(url, V5);
        await session.ReadUntilAsync(Stdout, "/dev/pts/");
        await session.SendAsync(Resize, """{"Width":123,"Height":45}""");
        await session.SendAsync(Stdin, "go\r");

        await session.ReadUntilAsync(Stdout, "read go");
        Assert.Contains("\"Success\"", await session.ReadUntilAsync(Error, "status"));
    }

    [Fact]
    public async Task Exec_OverSpdyWithKubeletsLibrary_OutputAndStatus()
    {
        var id = await _pod.StartContainerAsync("spdy", null, "sleep", "3600");
        var url = await ExecUrlAsync(id, stdin: true, tty: false, "sh", "-c", "cat; id -u");

        var result = await GoSpdyExecAsync(url, "v4.channel.k8s.io", "through spdystream\n");

        Assert.Equal("through spdystream\n0\n", result.GetProperty("stdout").GetString());
        Assert.Equal("""{"metadata":{},"status":"Success"}""", result.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Exec_UrlIsSingleUse_AndAStoppedContainerIsRefused()
    {
        var id = await _pod.StartContainerAsync("once", null, "sleep", "3600");
        var url = await ExecUrlAsync(id, stdin: false, tty: false, "true");
        await using (var first = await WebSocketTestSession.ConnectAsync(url, V5))
        {
            await first.ReadUntilAsync(Error, "status");
        }

        var (statusCode, _) = await WebSocketTestSession.ConnectRefusedAsync(url, V5);
        Assert.Equal(404, statusCode);

        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await ExecUrlAsync(id, stdin: false, tty: false, "true"));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
    }

    [Fact]
    public async Task Attach_ToAContainerWithStdin_InputReachesItAndItsOutputComesBack()
    {
        var id = await _pod.StartContainerAsync("attach", config => config.Stdin = true, "sh", "-c", "while read line; do echo \"got $line\"; done");
        var url = (await Runtime.AttachAsync(new AttachRequest { ContainerId = id, Stdin = true, Stdout = true, Stderr = true })).Url;

        await using var session = await WebSocketTestSession.ConnectAsync(url, V5);
        await session.SendAsync(Stdin, "hello\n");

        await session.ReadUntilAsync(Stdout, "got hello\n");
        var log = await File.ReadAllTextAsync(Path.Combine(_pod.LogDirectory, "attach", "0.log"));
        Assert.Contains(" stdout F got hello", log);
    }

    [Fact]
    public async Task PortForward_ReachesAServerListeningOnThePodsLoopback()
    {
        var id = await _pod.StartContainerAsync("web", null, "sh", "-c",
            "mkdir -p /www && echo served-from-the-pod > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www");
        await WaitForListenerAsync(id, 8080);
        var url = (await Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = _pod.PodId, Port = { 8080 } })).Url;

        await using var session = await WebSocketTestSession.ConnectAsync(url + "?port=8080", "v4.channel.k8s.io");
        await session.SendAsync(0, "GET / HTTP/1.0\r\n\r\n");
        var answer = await session.ReadUntilAsync(0, "served-from-the-pod");

        Assert.Contains("HTTP/1.", answer);
        Assert.Contains("served-from-the-pod", answer);
    }

    [Fact]
    public async Task Exec_WithATlsCertificateConfigured_IsServedOverHttpsWithThatCertificate()
    {
        var directory = Directory.CreateTempSubdirectory("crioci-streaming-tls-").FullName;
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        await File.WriteAllTextAsync(Path.Combine(directory, "tls.crt"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(directory, "tls.key"), key.ExportPkcs8PrivateKeyPem());
        await using var daemon = await DaemonProcess.StartAsync(extraArgs:
            ["--streaming-tls-cert", Path.Combine(directory, "tls.crt"), "--streaming-tls-key", Path.Combine(directory, "tls.key")]);
        try
        {
            await daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = registry.BusyboxLatest.Reference } });
            var podConfig = CriRequests.Pod("tls", Path.Combine(daemon.BaseDirectory, "logs"));
            var podId = (await daemon.Client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig })).PodSandboxId;
            var created = await daemon.Client.Runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = podId,
                Config = CriRequests.Container("tls", registry.BusyboxLatest.Reference, "sleep", "3600"),
                SandboxConfig = podConfig,
            });
            await daemon.Client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });

            var url = (await daemon.Client.Runtime.ExecAsync(new ExecRequest { ContainerId = created.ContainerId, Cmd = { "echo", "over tls" }, Stdout = true })).Url;
            Assert.StartsWith("https://127.0.0.1:", url);
            await using var session = await WebSocketTestSession.ConnectAsync(url, certificate, V5);

            await session.ReadUntilAsync(Error, "status");
            Assert.Equal("over tls\n", session.Text(Stdout));
            await daemon.Client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        }
        finally
        {
            await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Polls the pod's /proc/net/tcp until something listens on 127.0.0.1:<paramref name="port"/>.</summary>
    private async Task WaitForListenerAsync(string containerId, int port)
    {
        var listening = $"0100007F:{port:X4} 00000000:0000 0A";
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var table = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = containerId, Cmd = { "cat", "/proc/net/tcp" }, Timeout = 10 });
            if (table.Stdout.ToStringUtf8().Contains(listening, StringComparison.Ordinal))
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"nothing listens on 127.0.0.1:{port} in the pod");
    }

    /// <summary>Runs spdyexec (TestSupport's Go client over github.com/docker/spdystream, the SPDY library under kubelet, kubectl and crictl).</summary>
    private static async Task<JsonElement> GoSpdyExecAsync(string url, string protocol, string stdin)
    {
        var binary = await GoSpdyClients.BuildAsync("spdyexec");
        var result = await CommandRunner.RunAsync(binary, [url, protocol, stdin]);
        return JsonDocument.Parse(result.StandardOutput).RootElement;
    }
}
