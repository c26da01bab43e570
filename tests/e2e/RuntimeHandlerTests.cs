using System.Text.Json;
using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;
using Grpc.Core;

namespace CriOci.E2E;

/// <summary>
/// RuntimeClass: pods naming runtime_handler crun or runc run every container under Debian's
/// binary of that name, with our monitor as the container's parent (CRI log, exec, exit codes,
/// stats), and survive a daemon SIGKILL. crun is found on PATH (no configuration); runc comes
/// from the config file, so both ways of offering a handler are driven.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class RuntimeHandlerTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess _daemon = null!;
    private string _configFile = "";

    public async Task InitializeAsync()
    {
        await HybridCgroupsForCrun.EnsureAsync();
        var baseDirectory = Path.Combine(Path.GetTempPath(), "crioci-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(baseDirectory);
        _configFile = Path.Combine(baseDirectory, "crioci.json");
        await File.WriteAllTextAsync(_configFile, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["runtimeHandlers"] = new Dictionary<string, object> { ["runc"] = new Dictionary<string, string> { ["path"] = RequireBinary("runc") } },
        }));
        RequireBinary("crun");
        _daemon = await DaemonProcess.StartAsync(baseDirectory, ["--config", _configFile]);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(_daemon.BaseDirectory);
    }

    private RuntimeService.RuntimeServiceClient Runtime => _daemon.Client.Runtime;

    private string BinaryRoot(string handler) => Path.Combine(_daemon.StateDirectory, "handlers", handler, "root");

    [Theory]
    [InlineData("crun")]
    [InlineData("runc")]
    public async Task Pod_WithHandler_RunsItsContainersUnderThatBinary(string handler)
    {
        var image = registry.BusyboxLatest.Reference;
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var logDirectory = Path.Combine(_daemon.BaseDirectory, "logs-" + handler);
        var podConfig = CriRequests.Pod("rc-" + handler, logDirectory);
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig, RuntimeHandler = handler });
        var podStatus = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Equal(handler, podStatus.Status.RuntimeHandler);

        var id = (await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("main", image, "sh", "-c", $"echo hello from {handler}; echo to stderr >&2; exec sleep 1000"),
            SandboxConfig = podConfig,
        })).ContainerId;
        Assert.Equal("created", await BinaryStatusAsync(handler, id));
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });

        // The binary knows the container and our monitor is its parent.
        using (var state = JsonDocument.Parse((await RunBinaryAsync(handler, "state", id)).StandardOutput))
        {
            Assert.Equal("running", state.RootElement.GetProperty("status").GetString());
            var pid = state.RootElement.GetProperty("pid").GetInt32();
            var parent = ParentOf(pid);
            // `crioci-runtime monitor --external BINARY` ran BINARY create, then exec'd crioci-monitor in place.
            var parentCommand = File.ReadAllText($"/proc/{parent}/cmdline").Split('\0');
            Assert.Equal("crioci-monitor", Path.GetFileName(parentCommand[0]));
            Assert.Equal(id, parentCommand[Array.IndexOf(parentCommand, "--id") + 1]);
        }
        var logPath = Path.Combine(logDirectory, "main", "0.log");
        var log = await WaitForLogAsync(logPath, "to stderr");
        Assert.Contains($" stdout F hello from {handler}", log);
        Assert.Contains(" stderr F to stderr", log);

        var exec = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "sh", "-c", "echo out; echo err >&2; exit 3" }, Timeout = 10 });
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal("out\n", exec.Stdout.ToStringUtf8());
        Assert.Equal("err\n", exec.Stderr.ToStringUtf8());

        var stats = await Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id });
        Assert.True(stats.Stats.Memory.WorkingSetBytes.Value > 0, "no memory use read from the binary's cgroup");
        Assert.NotNull(stats.Stats.Cpu);

        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 1 });
        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 1 });
        var stopped = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id });
        Assert.Equal(ContainerState.ContainerExited, stopped.Status.State);
        Assert.Equal(137, stopped.Status.ExitCode);

        // A container of the same pod that ends by itself: its own exit code is recorded.
        var exiting = (await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("exits", image, "sh", "-c", "exit 7"),
            SandboxConfig = podConfig,
        })).ContainerId;
        Assert.Equal("created", await BinaryStatusAsync(handler, exiting));
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = exiting });
        var exitCode = await WaitForExitCodeAsync(exiting);
        Assert.Equal(7, exitCode);

        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });
        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });
        Assert.False(Directory.Exists(Path.Combine(BinaryRoot(handler), id)), $"{handler} still keeps state for a removed container");
        Assert.NotEqual(0, (await RunBinaryUncheckedAsync(handler, "state", id)).ExitCode);
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Empty(Directory.EnumerateDirectories(BinaryRoot(handler)));
        Assert.Empty(HostInspection.ProcessesMentioning(_daemon.StateDirectory, exceptPid: _daemon.Pid));
    }

    [Fact]
    public async Task RunPodSandbox_UnknownHandler_IsInvalidArgumentNamingIt()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest
        {
            Config = CriRequests.Pod("unknown-handler", Path.Combine(_daemon.BaseDirectory, "logs")),
            RuntimeHandler = "no-such-handler",
        }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("no-such-handler", error.Status.Detail);
        Assert.Empty((await Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
    }

    [Fact]
    public async Task Status_ListsEveryHandler_WithFeaturesTheBinaryReports()
    {
        var status = await Runtime.StatusAsync(new StatusRequest());
        var handlers = status.RuntimeHandlers.ToDictionary(h => h.Name);
        Assert.Equal("crioci", status.RuntimeHandlers[0].Name);
        Assert.Contains("crun", handlers.Keys);
        Assert.Contains("runc", handlers.Keys);
        // runc 1.1 has `features` without "rro" or idmapped mounts; crun 1.8 has no `features`: both false, truthfully.
        var runcFeatures = await RunBinaryUncheckedAsync("runc", "features");
        Assert.Equal(runcFeatures.ExitCode == 0 && runcFeatures.StandardOutput.Contains("\"rro\""), handlers["runc"].Features.RecursiveReadOnlyMounts);
        Assert.False(handlers["crun"].Features.UserNamespaces);
        Assert.True(handlers["crioci"].Features.UserNamespaces);
        // The embedded runtime agrees with its own `features` document on "rro".
        var embeddedFeatures = await CommandRunner.RunAsync(RepositoryPaths.Runtime, ["features"]);
        Assert.Equal(embeddedFeatures.StandardOutput.Contains("\"rro\""), handlers["crioci"].Features.RecursiveReadOnlyMounts);
    }

    [Fact]
    public async Task Daemon_KilledAndRestarted_KeepsCrunPodRunning()
    {
        var image = registry.BusyboxLatest.Reference;
        await _daemon.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } });
        var logDirectory = Path.Combine(_daemon.BaseDirectory, "logs-restart");
        var podConfig = CriRequests.Pod("rc-restart", logDirectory);
        var pod = await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig, RuntimeHandler = "crun" });
        var id = (await Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod.PodSandboxId,
            Config = CriRequests.Container("ticker", image, "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"),
            SandboxConfig = podConfig,
        })).ContainerId;
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        var logPath = Path.Combine(logDirectory, "ticker", "0.log");
        await WaitForLogAsync(logPath, "tick 1");

        await _daemon.KillAsync();
        await _daemon.DisposeAsync();
        _daemon = await DaemonProcess.StartAsync(_daemon.BaseDirectory, ["--config", _configFile]);

        var podStatus = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Equal("crun", podStatus.Status.RuntimeHandler);
        var status = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id });
        Assert.Equal(ContainerState.ContainerRunning, status.Status.State);
        Assert.Equal("running", await BinaryStatusAsync("crun", id));
        var exec = await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "echo", "still here" }, Timeout = 10 });
        Assert.Equal("still here\n", exec.Stdout.ToStringUtf8());
        var lines = File.ReadAllLines(logPath).Length;
        await WaitForLogAsync(logPath, $"tick {lines + 2}");

        await Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 0 });
        Assert.Equal(ContainerState.ContainerExited, (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status.State);
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.PodSandboxId });
        Assert.Empty(Directory.EnumerateDirectories(BinaryRoot("crun")));
    }

    private static string RequireBinary(string name) =>
        new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin" }.Select(directory => Path.Combine(directory, name)).FirstOrDefault(File.Exists)
        ?? throw new MissingTestDependencyException($"{name} is not installed (Debian package {name}; scripts/install-test-deps.sh installs it)");

    private Task<CommandResult> RunBinaryAsync(string handler, params string[] args) =>
        CommandRunner.RunAsync(RequireBinary(handler), ["--root", BinaryRoot(handler), .. args], TimeSpan.FromSeconds(30));

    private Task<CommandResult> RunBinaryUncheckedAsync(string handler, params string[] args) =>
        CommandRunner.RunUncheckedAsync(RequireBinary(handler), ["--root", BinaryRoot(handler), .. args], TimeSpan.FromSeconds(30));

    private async Task<string?> BinaryStatusAsync(string handler, string id)
    {
        using var state = JsonDocument.Parse((await RunBinaryAsync(handler, "state", id)).StandardOutput);
        return state.RootElement.GetProperty("status").GetString();
    }

    private static int ParentOf(int pid) =>
        int.Parse(File.ReadAllLines($"/proc/{pid}/status").First(line => line.StartsWith("PPid:", StringComparison.Ordinal))["PPid:".Length..].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<string> WaitForLogAsync(string path, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var content = File.Exists(path) ? await File.ReadAllTextAsync(path) : "";
            if (content.Contains(text, StringComparison.Ordinal))
            {
                return content;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"{path} never showed \"{text}\"; it holds:\n{content}");
            }
            await Task.Delay(50);
        }
    }

    private async Task<int> WaitForExitCodeAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var status = await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id });
            if (status.Status.State == ContainerState.ContainerExited)
            {
                return status.Status.ExitCode;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"container {id} is still {status.Status.State}");
            }
            await Task.Delay(50);
        }
    }
}
