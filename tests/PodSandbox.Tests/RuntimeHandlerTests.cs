using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Handlers;
using CriOci.PodSandbox.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace CriOci.PodSandbox.Tests;

/// <summary>
/// RuntimeClass handler selection: which names RunPodSandbox accepts, and that every container
/// of a pod goes to its pod's handler, also for a manager started again over the same state.
/// </summary>
public sealed class RuntimeHandlerTests : IDisposable
{
    private static readonly IReadOnlyDictionary<int, ContainerImage> NoImageVolumes = new Dictionary<int, ContainerImage>();

    private readonly string _temp = Directory.CreateTempSubdirectory("crioci-handlers-").FullName;
    private readonly CallLog _embeddedLog = new();
    private readonly CallLog _externalLog = new();
    private readonly FakeContainerRuntime _embedded;
    private readonly FakeContainerRuntime _external;
    private readonly SandboxManagerOptions _options;

    public RuntimeHandlerTests()
    {
        _embedded = new FakeContainerRuntime(_embeddedLog);
        _external = new FakeContainerRuntime(_externalLog);
        _options = new SandboxManagerOptions(Path.Combine(_temp, "root"), Path.Combine(_temp, "state"), "/nonexistent/crioci-runtime");
    }

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private RuntimeHandlerSet NewHandlerSet() =>
        new("crioci", _embedded, new Dictionary<string, OciRuntime.IContainerRuntime> { ["fast"] = _external });

    private SandboxManager NewManager() =>
        new(_options, NewHandlerSet(), new FakeNamespacePinner(new CallLog()), new FakeMounter(new CallLog()), new FakeCniInvoker(new CallLog()), NullLogger.Instance);

    private static PodSandboxConfig Pod(string name) => new()
    {
        Metadata = new PodSandboxMetadata { Name = name, Namespace = "rc", Uid = "uid-" + name },
        Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Node, Pid = NamespaceMode.Container } } },
    };

    private static ContainerConfig Container(string name) => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = "busybox" },
        Command = { "/bin/sleep", "3600" },
    };

    private static ContainerImage Image() => new(
        "sha256:busybox", "docker.io/library/busybox:1.36", ["/layers/busybox"], User: null, Env: ["PATH=/bin"],
        Entrypoint: [], Cmd: ["sh"], WorkingDir: null, StopSignal: null);

    [Theory]
    [InlineData("")]
    [InlineData("crioci")]
    [InlineData("fast")]
    public async Task RunPodSandbox_KnownHandler_IsAcceptedAndReported(string handler)
    {
        using var manager = NewManager();

        var pod = await manager.RunPodSandboxAsync(Pod("p" + handler.Length), handler, CancellationToken.None);

        Assert.Equal(handler, manager.PodSandboxStatus(pod, verbose: false).Status.RuntimeHandler);
    }

    [Theory]
    [InlineData("kata")]
    [InlineData("CRUN")]
    [InlineData("fast ")]
    public async Task RunPodSandbox_UnknownHandler_InvalidArgumentNamingItAndTheKnownOnes(string handler)
    {
        using var manager = NewManager();

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => manager.RunPodSandboxAsync(Pod("x"), handler, CancellationToken.None));

        Assert.Contains($"\"{handler}\"", error.Message);
        Assert.Contains("\"crioci\", \"fast\"", error.Message);
        Assert.Empty(manager.ListPodSandbox(null));
    }

    [Fact]
    public async Task Containers_OfAPod_GoToItsHandler_AlsoAfterARestart()
    {
        string podOnExternal, onExternal, onEmbedded;
        using (var manager = NewManager())
        {
            podOnExternal = await manager.RunPodSandboxAsync(Pod("ext"), "fast", CancellationToken.None);
            var podOnEmbedded = await manager.RunPodSandboxAsync(Pod("emb"), "", CancellationToken.None);
            onExternal = await manager.CreateContainerAsync(podOnExternal, Container("a"), Pod("ext"), Image(), NoImageVolumes, CancellationToken.None);
            onEmbedded = await manager.CreateContainerAsync(podOnEmbedded, Container("b"), Pod("emb"), Image(), NoImageVolumes, CancellationToken.None);
            await manager.StartContainerAsync(onExternal, CancellationToken.None);
        }
        Assert.Equal([$"Create {onExternal}", $"Start {onExternal}"], _externalLog.Calls);
        Assert.Equal([$"Create {onEmbedded}"], _embeddedLog.Calls);

        // A new manager and handler set (a restarted daemon) finds the owner by asking the runtimes.
        using (var restarted = NewManager())
        {
            await restarted.StopContainerAsync(onExternal, TimeSpan.Zero, CancellationToken.None);
            await restarted.RemoveContainerAsync(onExternal, CancellationToken.None);
        }
        Assert.Contains($"Kill {onExternal} 9", _externalLog.Calls);
        Assert.Contains($"Delete {onExternal}", _externalLog.Calls);
        Assert.DoesNotContain(_embeddedLog.Calls, call => call.Contains(onExternal, StringComparison.Ordinal));
    }

    [Fact]
    public void Handlers_ListTheEmbeddedOneFirst()
    {
        var names = NewHandlerSet().Handlers.Select(h => h.Name);

        Assert.Equal(["crioci", "fast"], names);
    }

    [Fact]
    public void Build_DetectsCrunAndRuncOnPath_ConfiguredEntriesWin()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_temp, "bin")).FullName;
        foreach (var name in new[] { "crun", "runc", "youki" })
        {
            File.WriteAllText(Path.Combine(bin, name), "#!/bin/sh\n");
            File.SetUnixFileMode(Path.Combine(bin, name), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        File.WriteAllText(Path.Combine(bin, "not-executable"), "");

        var options = RuntimeHandlerOptions.Build(null, new Dictionary<string, ExternalHandlerOptions>
        {
            ["runc"] = new("youki", Root: "/tmp/youki-root", ExtraArgs: ["--debug"]),
        }, "/nonexistent:" + bin);

        Assert.Equal("crioci", options.DefaultName);
        Assert.Equal(["crun", "runc"], options.External.Keys);
        Assert.Equal(Path.Combine(bin, "crun"), options.External["crun"].Path);
        Assert.Equal("/state/handlers/crun/root", options.RootOf("crun", "/state"));
        Assert.Equal(Path.Combine(bin, "youki"), options.External["runc"].Path);
        Assert.Equal(["--debug"], options.External["runc"].ExtraArgs!);
        Assert.Equal("/tmp/youki-root", options.RootOf("runc", "/state"));
    }

    [Fact]
    public void Build_NothingOnPath_OnlyTheEmbeddedHandler()
    {
        var options = RuntimeHandlerOptions.Build("mine", null, null);

        Assert.Equal("mine", options.DefaultName);
        Assert.Empty(options.External);
    }

    [Fact]
    public void Build_ConfiguredBinaryNotOnPath_NamesTheKey()
    {
        var error = Assert.Throws<ArgumentException>(() => RuntimeHandlerOptions.Build(null,
            new Dictionary<string, ExternalHandlerOptions> { ["kata"] = new("kata-runtime") }, "/nonexistent"));

        Assert.Contains("runtimeHandlers.kata.path", error.Message);
    }
}
