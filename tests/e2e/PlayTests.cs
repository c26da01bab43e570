using CriOci.Cri.V1;
using CriOci.E2E.Fixtures;
using CriOci.TestSupport;

namespace CriOci.E2E;

/// <summary>
/// <c>crioci play</c> as a user runs it: the real binary, a Pod manifest with an init container
/// and two containers from the test registry, the real daemon behind the socket.
/// </summary>
[Collection(RegistryCollection.Name)]
[Trait("Category", "Privileged")]
public sealed class PlayTests(RegistryFixture registry) : IAsyncLifetime
{
    private DaemonProcess daemon = null!;

    public async Task InitializeAsync() => daemon = await DaemonProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await daemon.DisposeAsync();
        await PodLifecycleTests.CleanUpAsync(daemon.BaseDirectory);
    }

    private string LogRoot => Path.Combine(daemon.BaseDirectory, "pod-logs");

    [Fact]
    public async Task Play_PodWithInitAndTwoContainers_RunsThemInOrderAndDownRemovesIt()
    {
        var manifest = await WriteManifestAsync($$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: played
              namespace: e2e
              labels:
                app: played
            spec:
              initContainers:
                - name: setup
                  image: {{registry.BusyboxLatest.Reference}}
                  command: ["sh", "-c", "echo init ran"]
              containers:
                - name: web
                  image: {{registry.BusyboxLatest.Reference}}
                  command: ["sh", "-c"]
                  args: ["echo web $GREETING; exec sleep 3600"]
                  env:
                    - name: GREETING
                      value: "hello from play"
                  ports:
                    - containerPort: 8080
                  resources:
                    requests:
                      cpu: 100m
                    limits:
                      cpu: 500m
                      memory: 64Mi
                - name: sidecar
                  image: {{registry.BusyboxLatest.Reference}}
                  command: ["sleep", "3600"]
                  workingDir: /tmp
                  securityContext:
                    runAsUser: 1000
                    allowPrivilegeEscalation: false
            """);

        var (code, output) = await PlayAsync(manifest);

        Assert.True(code == 0, output);
        Assert.Contains("init container setup: completed", output);
        var pod = Assert.Single((await daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Equal(("played", "e2e"), (pod.Metadata.Name, pod.Metadata.Namespace));
        Assert.Equal(PodSandboxState.SandboxReady, pod.State);
        var containers = (await daemon.Client.Runtime.ListContainersAsync(new ListContainersRequest())).Containers.ToDictionary(c => c.Metadata.Name);
        Assert.Equal(["setup", "sidecar", "web"], containers.Keys.Order());
        var setup = await StatusAsync(containers["setup"].Id);
        Assert.Equal((ContainerState.ContainerExited, 0), (setup.State, setup.ExitCode));
        Assert.True(setup.FinishedAt <= containers["web"].CreatedAt, "the init container finished before the app containers were created");
        Assert.Equal(ContainerState.ContainerRunning, containers["web"].State);
        Assert.Equal(ContainerState.ContainerRunning, containers["sidecar"].State);

        var env = await ExecAsync(containers["web"].Id, "sh", "-c", "echo $GREETING");
        Assert.Equal("hello from play\n", env);
        var id = await ExecAsync(containers["sidecar"].Id, "sh", "-c", "id -u; pwd");
        Assert.Equal("1000\n/tmp\n", id);
        var memory = await ExecAsync(containers["web"].Id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max");
        Assert.Equal($"{64L << 20}\n", memory);
        var cpu = await ExecAsync(containers["web"].Id, "sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max");
        Assert.Equal("50000\n", cpu);
        Assert.Contains("init ran", await File.ReadAllTextAsync(setup.LogPath));

        var (again, againOutput) = await PlayAsync(manifest);
        Assert.Equal(1, again);
        Assert.Contains("already exists", againOutput);

        var (downCode, downOutput) = await PlayAsync("--down", manifest);

        Assert.True(downCode == 0, downOutput);
        Assert.Empty((await daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty((await daemon.Client.Runtime.ListContainersAsync(new ListContainersRequest())).Containers);
    }

    [Fact]
    public async Task Play_InitContainerFails_ReportsItAndLeavesNoPod()
    {
        var manifest = await WriteManifestAsync($$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: broken
            spec:
              initContainers:
                - name: fails
                  image: {{registry.BusyboxLatest.Reference}}
                  command: ["sh", "-c", "exit 3"]
              containers:
                - name: never
                  image: {{registry.BusyboxLatest.Reference}}
                  command: ["sleep", "3600"]
            """);

        var (code, output) = await PlayAsync(manifest);

        Assert.Equal(1, code);
        Assert.Contains("init container fails exited with 3", output);
        Assert.Empty((await daemon.Client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
    }

    private async Task<ContainerStatus> StatusAsync(string id) =>
        (await daemon.Client.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;

    private async Task<string> ExecAsync(string id, params string[] command)
    {
        var result = await daemon.Client.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { command }, Timeout = 10 });
        Assert.True(result.ExitCode == 0, result.Stderr.ToStringUtf8());
        return result.Stdout.ToStringUtf8();
    }

    private async Task<string> WriteManifestAsync(string yaml)
    {
        var path = Path.Combine(daemon.BaseDirectory, $"pod-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    private async Task<(int Code, string Output)> PlayAsync(params string[] args)
    {
        var result = await CommandRunner.RunUncheckedAsync(RepositoryPaths.Daemon,
            ["play", "--socket", daemon.SocketPath, "--log-root", LogRoot, .. args], TimeSpan.FromMinutes(3));
        return (result.ExitCode, result.StandardOutput + result.StandardError);
    }
}
