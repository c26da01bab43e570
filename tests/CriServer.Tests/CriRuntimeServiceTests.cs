using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.CriServer.Tests.Fakes;
using Grpc.Core;

namespace CriOci.CriServer.Tests;

public sealed class CriRuntimeServiceTests : IAsyncLifetime
{
    private CriTestServer server = null!;

    public async Task InitializeAsync() => server = await CriTestServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Version_Always_ReportsCriociAndV1()
    {
        var response = await server.Runtime.VersionAsync(new VersionRequest { Version = "0.1.0" });

        Assert.Equal("0.1.0", response.Version);
        Assert.Equal("crioci", response.RuntimeName);
        Assert.Equal("v1", response.RuntimeApiVersion);
        Assert.StartsWith("0.1.0", response.RuntimeVersion);
    }

    [Fact]
    public async Task Status_NetworkNotReady_RuntimeReadyAndNetworkReasonFromSandboxManager()
    {
        server.Sandboxes.Network = new PodSandbox.Network.NetworkReadiness(false, "NetworkPluginNotReady", "no valid CNI network config in /etc/cni/net.d");

        var response = await server.Runtime.StatusAsync(new StatusRequest());

        var runtimeReady = Assert.Single(response.Status.Conditions, c => c.Type == "RuntimeReady");
        var networkReady = Assert.Single(response.Status.Conditions, c => c.Type == "NetworkReady");
        Assert.True(runtimeReady.Status);
        Assert.False(networkReady.Status);
        Assert.Equal("NetworkPluginNotReady", networkReady.Reason);
        Assert.Equal("no valid CNI network config in /etc/cni/net.d", networkReady.Message);
        Assert.Empty(response.Info);
    }

    [Fact]
    public async Task Status_NetworkReady_NetworkReadyTrue()
    {
        server.Sandboxes.Network = PodSandbox.Network.NetworkReadiness.IsReady;

        var response = await server.Runtime.StatusAsync(new StatusRequest());

        Assert.True(Assert.Single(response.Status.Conditions, c => c.Type == "NetworkReady").Status);
    }

    [Fact]
    public async Task Status_Verbose_InfoHoldsConfig()
    {
        var response = await server.Runtime.StatusAsync(new StatusRequest { Verbose = true });

        Assert.Contains("\"insecureRegistries\":[\"registry.local:5000\"]", response.Info["config"]);
    }

    [Fact]
    public async Task RuntimeConfig_Always_ReportsCgroupfs()
    {
        var response = await server.Runtime.RuntimeConfigAsync(new RuntimeConfigRequest());

        Assert.Equal(CgroupDriver.Cgroupfs, response.Linux.CgroupDriver);
    }

    public static TheoryData<RunPodSandboxRequest, string> IncompletePodRequests => new()
    {
        { new RunPodSandboxRequest(), "config" },
        { new RunPodSandboxRequest { Config = new PodSandboxConfig() }, "config.metadata" },
        { Pod(name: ""), "config.metadata.name" },
        { Pod(uid: ""), "config.metadata.uid" },
        { Pod(@namespace: ""), "config.metadata.namespace" },
    };

    [Theory]
    [MemberData(nameof(IncompletePodRequests))]
    public async Task RunPodSandbox_MissingField_InvalidArgumentNamingField(RunPodSandboxRequest request, string field)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.RunPodSandboxAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"{field} is required", error.Status.Detail);
        Assert.Empty(server.Sandboxes.Calls);
    }

    [Fact]
    public async Task RunPodSandbox_CompleteRequest_DelegatesAndReturnsId()
    {
        var request = Pod();
        request.RuntimeHandler = "runc";

        var response = await server.Runtime.RunPodSandboxAsync(request);

        Assert.Equal("pod-1", response.PodSandboxId);
        Assert.Equal(["RunPodSandbox web"], server.Sandboxes.Calls);
        Assert.Equal("runc", server.Sandboxes.LastRuntimeHandler);
    }

    [Fact]
    public async Task RunPodSandbox_ManagerReportsAlreadyExists_AlreadyExists()
    {
        server.Sandboxes.Failure = new AlreadyExistsException("pod web already exists");

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.RunPodSandboxAsync(Pod()).ResponseAsync);

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("pod web already exists", error.Status.Detail);
    }

    [Fact]
    public async Task StopPodSandbox_EmptyId_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("pod_sandbox_id", error.Status.Detail);
    }

    [Fact]
    public async Task StopAndRemovePodSandbox_Id_Delegated()
    {
        await server.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = "p1" });
        await server.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = "p1" });

        Assert.Equal(["StopPodSandbox p1", "RemovePodSandbox p1"], server.Sandboxes.Calls);
    }

    [Fact]
    public async Task PodSandboxStatus_UnknownPod_NotFound()
    {
        server.Sandboxes.Failure = new NotFoundException("pod sandbox p9 not found");

        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = "p9" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("pod sandbox p9 not found", error.Status.Detail);
    }

    [Fact]
    public async Task ListPodSandbox_NoFilter_ReturnsManagerItems()
    {
        server.Sandboxes.Pods.Add(new Cri.V1.PodSandbox { Id = "p1" });

        var response = await server.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest());

        Assert.Equal("p1", Assert.Single(response.Items).Id);
    }

    public static TheoryData<CreateContainerRequest, string> IncompleteContainerRequests
    {
        get
        {
            var noPod = CreateRequest();
            noPod.PodSandboxId = "";
            var noName = CreateRequest();
            noName.Config.Metadata.Name = "";
            var noImageSpec = CreateRequest();
            noImageSpec.Config.Image = null;
            var noImage = CreateRequest();
            noImage.Config.Image.Image = "";
            var noSandboxConfig = CreateRequest();
            noSandboxConfig.SandboxConfig = null;
            return new()
            {
                { noPod, "pod_sandbox_id" },
                { new CreateContainerRequest { PodSandboxId = "p1" }, "config" },
                { noName, "config.metadata.name" },
                { noImageSpec, "config.image" },
                { noImage, "config.image.image" },
                { noSandboxConfig, "sandbox_config" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(IncompleteContainerRequests))]
    public async Task CreateContainer_MissingField_InvalidArgumentNamingField(CreateContainerRequest request, string field)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.CreateContainerAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"{field} is required", error.Status.Detail);
    }

    [Fact]
    public async Task CreateContainer_ImageNotPulled_NotFoundNamingImage()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.CreateContainerAsync(CreateRequest()).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("image busybox:latest not found", error.Status.Detail);
        Assert.Empty(server.Sandboxes.Calls);
    }

    [Fact]
    public async Task CreateContainer_PulledImage_PassesLayersAndImageConfig()
    {
        var record = FakeImageService.Record("sha256:" + new string('b', 64), "busybox:latest", user: "1000");
        server.Images.Images.Add(record);

        var response = await server.Runtime.CreateContainerAsync(CreateRequest());

        Assert.Equal("ctr-1", response.ContainerId);
        Assert.Equal(["CreateContainer p1 app"], server.Sandboxes.Calls);
        var image = server.Sandboxes.LastContainerImage!;
        Assert.Equal(record.Id, image.Id);
        Assert.Equal("busybox:latest", image.Reference);
        Assert.Equal(["/layers/sha256:chain"], image.LayerDirectories);
        Assert.Equal("1000", image.User);
        Assert.Equal(["/bin/sh"], image.Entrypoint);
        Assert.Equal(["-c", "sleep 1"], image.Cmd);
        Assert.Equal(["PATH=/bin"], image.Env);
        Assert.Equal("/work", image.WorkingDir);
        Assert.Equal("SIGQUIT", image.StopSignal);
    }

    [Fact]
    public async Task StartContainer_Id_Delegated()
    {
        await server.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = "c1" });

        Assert.Equal(["StartContainer c1"], server.Sandboxes.Calls);
    }

    [Fact]
    public async Task StopContainer_TimeoutSeconds_PassedAsTimeSpan()
    {
        await server.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = "c1", Timeout = 30 });

        Assert.Equal(["StopContainer c1"], server.Sandboxes.Calls);
        Assert.Equal(TimeSpan.FromSeconds(30), server.Sandboxes.LastTimeout);
    }

    [Fact]
    public async Task StopContainer_NegativeTimeout_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = "c1", Timeout = -1 }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("timeout must not be negative", error.Status.Detail);
    }

    [Fact]
    public async Task RemoveContainer_EmptyId_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.RemoveContainerAsync(new RemoveContainerRequest()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("container_id is required", error.Status.Detail);
    }

    [Fact]
    public async Task ContainerStatus_UnknownContainer_NotFound()
    {
        server.Sandboxes.Failure = new NotFoundException("container c9 not found");

        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = "c9" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task ListContainers_NoFilter_ReturnsManagerContainers()
    {
        server.Sandboxes.Containers.Add(new Container { Id = "c1" });

        var response = await server.Runtime.ListContainersAsync(new ListContainersRequest());

        Assert.Equal("c1", Assert.Single(response.Containers).Id);
    }

    [Fact]
    public async Task ExecSync_EmptyCommand_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = "c1" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("cmd is required", error.Status.Detail);
    }

    [Fact]
    public async Task ExecSync_Command_DelegatesWithTimeoutAndReturnsExitCode()
    {
        var response = await server.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = "c1", Cmd = { "ls", "/" }, Timeout = 5 });

        Assert.Equal(3, response.ExitCode);
        Assert.Equal(["ls", "/"], server.Sandboxes.LastCommand);
        Assert.Equal(TimeSpan.FromSeconds(5), server.Sandboxes.LastTimeout);
    }

    [Fact]
    public async Task UpdateRuntimeConfig_PodCidr_PassedToSandboxManager()
    {
        var request = new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "10.88.0.0/16" } },
        };

        await server.Runtime.UpdateRuntimeConfigAsync(request);

        Assert.Equal(["10.88.0.0/16"], server.Sandboxes.PodCidrs);
    }

    [Fact]
    public async Task Attach_ContainerNotRunning_FailedPrecondition()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.AttachAsync(new AttachRequest { ContainerId = "c1", Stdout = true }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("not running", error.Status.Detail);
    }

    [Fact]
    public async Task Exec_StreamingServerOff_UnavailableSayingSo()
    {
        server.Sandboxes.ContainerStateOfAll = ContainerState.ContainerRunning;

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.ExecAsync(new ExecRequest { ContainerId = "c1", Cmd = { "sh" }, Stdout = true }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("streaming server is off", error.Status.Detail);
    }

    [Fact]
    public async Task CheckpointContainer_UnimplementedWithTheReason()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Runtime.CheckpointContainerAsync(new CheckpointContainerRequest { ContainerId = "c1" }).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Contains("CRIU", error.Status.Detail);
    }

    [Fact]
    public async Task StartContainer_UnexpectedException_InternalWithMessage()
    {
        server.Sandboxes.Failure = new InvalidOperationException("state file is corrupt");

        var error = await Assert.ThrowsAsync<RpcException>(
            () => server.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = "c1" }).ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("state file is corrupt", error.Status.Detail);
    }

    private static RunPodSandboxRequest Pod(string name = "web", string uid = "uid-1", string @namespace = "default") => new()
    {
        Config = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = name, Uid = uid, Namespace = @namespace } },
    };

    private static CreateContainerRequest CreateRequest() => new()
    {
        PodSandboxId = "p1",
        Config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "app" },
            Image = new ImageSpec { Image = "busybox:latest" },
        },
        SandboxConfig = Pod().Config,
    };
}
