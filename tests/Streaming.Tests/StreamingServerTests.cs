using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.Streaming.Tests.Support;

namespace CriOci.Streaming.Tests;

/// <summary>Registration: the CRI requests kubelet would refuse, the URLs, the bounded session registry.</summary>
public sealed class StreamingServerTests
{
    private readonly ManualTimeProvider _time = new();

    public static TheoryData<ExecRequest, string> InvalidExecs => new()
    {
        { new ExecRequest { Cmd = { "ls" }, Stdout = true }, "container_id" },
        { new ExecRequest { ContainerId = "c1", Stdout = true }, "cmd" },
        { new ExecRequest { ContainerId = "c1", Cmd = { "ls" } }, "one of stdin, stdout, or stderr" },
        { new ExecRequest { ContainerId = "c1", Cmd = { "ls" }, Tty = true, Stdout = true, Stderr = true }, "tty and stderr" },
    };

    [Theory]
    [MemberData(nameof(InvalidExecs))]
    public void RegisterExec_InvalidRequest_InvalidArgumentNamingTheField(ExecRequest request, string field)
    {
        var server = NewServer();

        var error = Assert.Throws<InvalidArgumentException>(() => server.RegisterExec(request));

        Assert.Contains(field, error.Message);
        Assert.Equal(0, server.PendingSessionCount);
    }

    [Fact]
    public void RegisterAttach_TtyWithStderr_InvalidArgument()
    {
        var error = Assert.Throws<InvalidArgumentException>(() => NewServer().RegisterAttach(new AttachRequest { ContainerId = "c1", Tty = true, Stderr = true }));

        Assert.Contains("tty and stderr", error.Message);
    }

    [Fact]
    public void RegisterPortForward_NoPodId_InvalidArgument()
    {
        var error = Assert.Throws<InvalidArgumentException>(() => NewServer().RegisterPortForward(new PortForwardRequest { Port = { 80 } }));

        Assert.Contains("pod_sandbox_id", error.Message);
    }

    [Fact]
    public void Register_Urls_AbsolutePathUnderBaseWithDistinctUrlSafeTokens()
    {
        var server = NewServer();

        var exec = new Uri(server.RegisterExec(new ExecRequest { ContainerId = "c1", Cmd = { "ls" }, Stdout = true }).Url);
        var attach = new Uri(server.RegisterAttach(new AttachRequest { ContainerId = "c1", Stdout = true }).Url);
        var portForward = new Uri(server.RegisterPortForward(new PortForwardRequest { PodSandboxId = "p1", Port = { 80 } }).Url);

        Assert.Equal("http://10.0.0.1:10010/exec/", exec.GetLeftPart(UriPartial.Authority) + exec.AbsolutePath[..6]);
        Assert.StartsWith("/attach/", attach.AbsolutePath);
        Assert.StartsWith("/portforward/", portForward.AbsolutePath);
        var tokens = new[] { exec, attach, portForward }.Select(url => url.Segments[^1]).ToList();
        Assert.Equal(3, tokens.Distinct().Count());
        Assert.All(tokens, token => Assert.Matches("^[A-Za-z0-9_-]{22}$", token));
    }

    [Fact]
    public void Register_BeyondMaxInFlight_RefusedUntilOldOnesExpire()
    {
        var server = NewServer(options => options with { MaxInFlightSessions = 2 });
        var request = new PortForwardRequest { PodSandboxId = "p1" };
        server.RegisterPortForward(request);
        server.RegisterPortForward(request);

        Assert.Throws<UnavailableException>(() => server.RegisterPortForward(request));

        _time.Advance(StreamingOptions.DefaultTokenLifetime);
        server.RegisterPortForward(request);
        Assert.Equal(1, server.PendingSessionCount);
    }

    private StreamingServer NewServer(Func<StreamingOptions, StreamingOptions>? configure = null)
    {
        var options = new StreamingOptions(new Uri("http://10.0.0.1:10010/prefix/"));
        return new StreamingServer(configure?.Invoke(options) ?? options, new HostProcessRuntime(), timeProvider: _time);
    }
}
