using CriOci.Cri.V1;
using Grpc.Core;
using static Grpc.Core.StatusCode;

namespace CriOci.E2E;

/// <summary>What a row needs from the running daemon: its clients, a pulled image and a log directory.</summary>
public sealed record BadRequestContext(
    RuntimeService.RuntimeServiceClient Runtime, ImageService.ImageServiceClient Images, string Image, string LogDirectory);

/// <summary>
/// One bad request and the answer it must get. <paramref name="MessageNames"/> is what the
/// status message must contain: the api.proto field at fault, or the unknown ID; null for OK rows.
/// </summary>
public sealed record BadRequest(string Rpc, string Case, StatusCode Expected, string? MessageNames, Func<BadRequestContext, Task> Send)
{
    public string Name => $"{Rpc}: {Case}";
}

/// <summary>
/// Every implemented RPC of runtime.v1.RuntimeService and ImageService with the bad requests a
/// cluster can send it (issue 8): empty requests, missing nested messages, unknown IDs, names
/// and IDs that could climb out of a directory, huge strings, invalid enum values, negative
/// timeouts, bad image references and a message over the 16 MiB limit. Unknown IDs are NotFound
/// except for Stop* and Remove*, which api.proto makes idempotent; a malformed ID can never
/// exist and is InvalidArgument everywhere.
/// RPCs that answer Unimplemented today (CheckpointContainer and the Stream* calls) are not in the table: any row for them would change meaning when they are
/// written. GetContainerEvents takes no input that can be wrong.
/// </summary>
public static class BadRequestTable
{
    /// <summary>A well-formed ID (64 hex digits, like the daemon's own) that no object has.</summary>
    public const string UnknownId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static readonly string[] TraversalNames = ["../x", "a/b", "..", "."];

    public static readonly string OneMebibyte = new('a', 1024 * 1024);

    /// <summary>Over the server's 16 MiB receive limit (kubelet's own maxMsgSize).</summary>
    private static readonly string SeventeenMebibytes = new('a', 17 * 1024 * 1024);

    /// <summary>No value of the enum it is cast to.</summary>
    private const int InvalidEnum = 99;

    public static IReadOnlyList<BadRequest> Rows { get; } = Build();

    private static List<BadRequest> Build() =>
    [
        .. Version(),
        .. RunPodSandbox(),
        .. IdRows("StopPodSandbox", "pod_sandbox_id", unknown: OK,
            (c, id) => c.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id }).ResponseAsync),
        .. IdRows("RemovePodSandbox", "pod_sandbox_id", unknown: OK,
            (c, id) => c.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id }).ResponseAsync),
        .. IdRows("PodSandboxStatus", "pod_sandbox_id", unknown: NotFound,
            (c, id) => c.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = id, Verbose = true }).ResponseAsync),
        .. IdRows("UpdatePodSandboxResources", "pod_sandbox_id", unknown: NotFound,
            (c, id) => c.Runtime.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest
            {
                PodSandboxId = id,
                Resources = new LinuxContainerResources { CpuShares = 512 },
            }).ResponseAsync),
        .. ListPodSandbox(),
        .. CreateContainer(),
        .. IdRows("StartContainer", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }).ResponseAsync),
        .. IdRows("StopContainer", "container_id", unknown: OK,
            (c, id) => c.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id }).ResponseAsync),
        Row("StopContainer", "negative timeout", InvalidArgument, "timeout",
            c => c.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = UnknownId, Timeout = -1 }).ResponseAsync),
        .. IdRows("RemoveContainer", "container_id", unknown: OK,
            (c, id) => c.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id }).ResponseAsync),
        .. ListContainers(),
        .. IdRows("ContainerStatus", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id, Verbose = true }).ResponseAsync),
        .. UpdateContainerResources(),
        .. IdRows("ReopenContainerLog", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.ReopenContainerLogAsync(new ReopenContainerLogRequest { ContainerId = id }).ResponseAsync),
        .. ExecSync(),
        .. IdRows("ContainerStats", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id }).ResponseAsync),
        .. ListContainerStats(),
        .. IdRows("PodSandboxStats", "pod_sandbox_id", unknown: NotFound,
            (c, id) => c.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = id }).ResponseAsync),
        .. IdRows("Exec", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.ExecAsync(new ExecRequest { ContainerId = id, Cmd = { "true" }, Stdout = true }).ResponseAsync),
        .. IdRows("Attach", "container_id", unknown: NotFound,
            (c, id) => c.Runtime.AttachAsync(new AttachRequest { ContainerId = id, Stdout = true }).ResponseAsync),
        .. IdRows("PortForward", "pod_sandbox_id", unknown: NotFound,
            (c, id) => c.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = id, Port = { 80 } }).ResponseAsync),
        .. StreamingAndMetrics(),
        .. UpdateRuntimeConfig(),
        Row("Status", "empty request", OK, null, c => c.Runtime.StatusAsync(new StatusRequest()).ResponseAsync),
        Row("RuntimeConfig", "empty request", OK, null, c => c.Runtime.RuntimeConfigAsync(new RuntimeConfigRequest()).ResponseAsync),
        .. ListImages(),
        .. ImageStatus(),
        .. PullImage(),
        .. RemoveImage(),
        Row("ImageFsInfo", "empty request", OK, null, c => c.Images.ImageFsInfoAsync(new ImageFsInfoRequest()).ResponseAsync),
    ];

    private static BadRequest Row(string rpc, string @case, StatusCode expected, string? messageNames, Func<BadRequestContext, Task> send) =>
        new(rpc, @case, expected, messageNames, send);

    /// <summary>The rows every RPC keyed by one object ID gets.</summary>
    private static IEnumerable<BadRequest> IdRows(string rpc, string field, StatusCode unknown, Func<BadRequestContext, string, Task> send)
    {
        yield return Row(rpc, $"no {field}", InvalidArgument, field, c => send(c, ""));
        yield return Row(rpc, "unknown ID", unknown, unknown == OK ? null : UnknownId, c => send(c, UnknownId));
        foreach (var name in TraversalNames)
        {
            yield return Row(rpc, $"{field} \"{name}\"", InvalidArgument, field, c => send(c, name));
        }
        yield return Row(rpc, $"{field} of 1 MiB", InvalidArgument, field, c => send(c, OneMebibyte));
    }

    private static IEnumerable<BadRequest> Version()
    {
        yield return Row("Version", "empty request", OK, null, c => c.Runtime.VersionAsync(new VersionRequest()).ResponseAsync);
        yield return Row("Version", "version of 1 MiB", OK, null,
            c => c.Runtime.VersionAsync(new VersionRequest { Version = OneMebibyte }).ResponseAsync);
    }

    private static PodSandboxConfig Pod(Action<PodSandboxConfig> change)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "bad-request", Namespace = "e2e", Uid = Guid.NewGuid().ToString() },
        };
        change(config);
        return config;
    }

    private static Func<BadRequestContext, Task> RunPod(Action<PodSandboxConfig> change) =>
        c => c.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = Pod(change) }).ResponseAsync;

    private static IEnumerable<BadRequest> RunPodSandbox()
    {
        const string rpc = "RunPodSandbox";
        yield return Row(rpc, "empty request", InvalidArgument, "config", c => c.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest()).ResponseAsync);
        yield return Row(rpc, "no config.metadata", InvalidArgument, "config.metadata", RunPod(p => p.Metadata = null));
        yield return Row(rpc, "empty config.metadata.name", InvalidArgument, "config.metadata.name", RunPod(p => p.Metadata.Name = ""));
        yield return Row(rpc, "empty config.metadata.uid", InvalidArgument, "config.metadata.uid", RunPod(p => p.Metadata.Uid = ""));
        yield return Row(rpc, "empty config.metadata.namespace", InvalidArgument, "config.metadata.namespace", RunPod(p => p.Metadata.Namespace = ""));
        foreach (var name in TraversalNames)
        {
            yield return Row(rpc, $"config.metadata.name \"{name}\"", InvalidArgument, "config.metadata.name", RunPod(p => p.Metadata.Name = name));
            yield return Row(rpc, $"config.metadata.namespace \"{name}\"", InvalidArgument, "config.metadata.namespace", RunPod(p => p.Metadata.Namespace = name));
            yield return Row(rpc, $"config.metadata.uid \"{name}\"", InvalidArgument, "config.metadata.uid", RunPod(p => p.Metadata.Uid = name));
        }
        yield return Row(rpc, "config.metadata.name of 1 MiB", InvalidArgument, "config.metadata.name", RunPod(p => p.Metadata.Name = OneMebibyte));
        yield return Row(rpc, "config.hostname of 1 MiB", InvalidArgument, "config.hostname", RunPod(p => p.Hostname = OneMebibyte));
        yield return Row(rpc, "unknown runtime_handler", InvalidArgument, "runtime_handler",
            c => c.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = Pod(_ => { }), RuntimeHandler = "../x" }).ResponseAsync);
        yield return Row(rpc, "invalid network namespace mode", InvalidArgument, "config.linux.security_context.namespace_options.network",
            RunPod(p => p.Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { Network = (NamespaceMode)InvalidEnum } },
            }));
        foreach (var (name, userns) in BadUserNamespaces())
        {
            yield return Row(rpc, $"userns_options {name}", InvalidArgument, "config.linux.security_context.namespace_options.userns_options",
                RunPod(p => p.Linux = new LinuxPodSandboxConfig
                {
                    SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { UsernsOptions = userns } },
                }));
        }
        yield return Row(rpc, "invalid port mapping protocol", InvalidArgument, "config.port_mappings",
            RunPod(p => p.PortMappings.Add(new PortMapping { Protocol = (Protocol)InvalidEnum, ContainerPort = 80, HostPort = 18080 })));
        yield return Row(rpc, "config.linux.cgroup_parent climbing out", InvalidArgument, "config.linux.cgroup_parent",
            RunPod(p => p.Linux = new LinuxPodSandboxConfig { CgroupParent = "/kubepods/../../../escape" }));
        yield return Row(rpc, "config.linux.sysctls not namespaced", InvalidArgument, "kernel.pid_max",
            RunPod(p => p.Linux = new LinuxPodSandboxConfig { Sysctls = { ["kernel.pid_max"] = "65536" } }));
        yield return Row(rpc, "config.linux.sysctls climbing out of /proc/sys/net", InvalidArgument, "net/../kernel/pid_max",
            RunPod(p => p.Linux = new LinuxPodSandboxConfig { Sysctls = { ["net/../kernel/pid_max"] = "1" } }));
        yield return Row(rpc, "message over 16 MiB", ResourceExhausted, null,
            RunPod(p => p.Annotations["huge"] = SeventeenMebibytes));
    }

    /// <summary>userns_options kubelet would never send: refused whether or not the node supports user namespaces.</summary>
    private static IEnumerable<(string Name, UserNamespace Options)> BadUserNamespaces()
    {
        static UserNamespace Pod(uint containerId, uint hostId, uint length) => new()
        {
            Mode = NamespaceMode.Pod,
            Uids = { new IDMapping { ContainerId = containerId, HostId = hostId, Length = length } },
            Gids = { new IDMapping { ContainerId = containerId, HostId = hostId, Length = length } },
        };
        yield return ("invalid mode", new UserNamespace { Mode = (NamespaceMode)InvalidEnum });
        yield return ("mode POD without maps", new UserNamespace { Mode = NamespaceMode.Pod });
        yield return ("not mapping container id 0", Pod(1, 100000, 65536));
        yield return ("mapping past the largest id", Pod(0, uint.MaxValue - 10, 65536));
        yield return ("mapping no ids", Pod(0, 100000, 0));
    }

    private static IEnumerable<BadRequest> ListPodSandbox()
    {
        const string rpc = "ListPodSandbox";
        yield return Row(rpc, "empty request", OK, null, c => c.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest()).ResponseAsync);
        yield return Row(rpc, "filter by unknown ID", OK, null, c => ExpectNoneAsync(c.Runtime.ListPodSandboxAsync(
            new ListPodSandboxRequest { Filter = new PodSandboxFilter { Id = UnknownId } }).ResponseAsync, r => r.Items.Count));
        yield return Row(rpc, "filter by ID \"../x\"", OK, null, c => ExpectNoneAsync(c.Runtime.ListPodSandboxAsync(
            new ListPodSandboxRequest { Filter = new PodSandboxFilter { Id = "../x" } }).ResponseAsync, r => r.Items.Count));
        yield return Row(rpc, "filter by invalid state", OK, null, c => ExpectNoneAsync(c.Runtime.ListPodSandboxAsync(
            new ListPodSandboxRequest { Filter = new PodSandboxFilter { State = new PodSandboxStateValue { State = (PodSandboxState)InvalidEnum } } }).ResponseAsync,
            r => r.Items.Count));
    }

    private static Func<BadRequestContext, Task> CreateIn(string podSandboxId, Action<CreateContainerRequest> change) => c =>
    {
        var request = new CreateContainerRequest
        {
            PodSandboxId = podSandboxId,
            Config = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "bad-request" },
                Image = new ImageSpec { Image = c.Image },
                Command = { "true" },
                LogPath = "bad-request/0.log",
            },
            SandboxConfig = Pod(p => p.LogDirectory = c.LogDirectory),
        };
        change(request);
        return c.Runtime.CreateContainerAsync(request).ResponseAsync;
    };

    private static Func<BadRequestContext, Task> Create(Action<CreateContainerRequest> change) => CreateIn(UnknownId, change);

    private static IEnumerable<BadRequest> CreateContainer()
    {
        const string rpc = "CreateContainer";
        yield return Row(rpc, "empty request", InvalidArgument, "pod_sandbox_id", c => c.Runtime.CreateContainerAsync(new CreateContainerRequest()).ResponseAsync);
        yield return Row(rpc, "no config", InvalidArgument, "config", Create(r => r.Config = null));
        yield return Row(rpc, "no config.metadata", InvalidArgument, "config.metadata", Create(r => r.Config.Metadata = null));
        yield return Row(rpc, "empty config.metadata.name", InvalidArgument, "config.metadata.name", Create(r => r.Config.Metadata.Name = ""));
        yield return Row(rpc, "no config.image", InvalidArgument, "config.image", Create(r => r.Config.Image = null));
        yield return Row(rpc, "empty config.image.image", InvalidArgument, "config.image.image", Create(r => r.Config.Image.Image = ""));
        yield return Row(rpc, "no sandbox_config", InvalidArgument, "sandbox_config", Create(r => r.SandboxConfig = null));
        yield return Row(rpc, "unknown pod_sandbox_id", NotFound, UnknownId, Create(_ => { }));
        // No AppArmor and no SELinux on these machines: confinement asked for must not be dropped.
        yield return Row(rpc, "Localhost AppArmor profile on a node without AppArmor", FailedPrecondition, "apparmor", Create(r =>
            r.Config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext
            {
                Apparmor = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "my-profile" },
            } }));
#pragma warning disable CS0612 // the deprecated string field, as older kubelets send it
        yield return Row(rpc, "deprecated localhost/NAME AppArmor profile on a node without AppArmor", FailedPrecondition, "apparmor", Create(r =>
            r.Config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { ApparmorProfile = "localhost/my-profile" } }));
        yield return Row(rpc, "unknown deprecated AppArmor profile string", InvalidArgument, "apparmor_profile", Create(r =>
            r.Config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { ApparmorProfile = "docker/default" } }));
#pragma warning restore CS0612
        yield return Row(rpc, "SELinux options on a node without SELinux", FailedPrecondition, "selinux_options", Create(r =>
            r.Config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { SelinuxOptions = new SELinuxOption { Type = "container_t" } } }));
        foreach (var name in TraversalNames)
        {
            yield return Row(rpc, $"pod_sandbox_id \"{name}\"", InvalidArgument, "pod_sandbox_id", CreateIn(name, _ => { }));
            yield return Row(rpc, $"config.metadata.name \"{name}\"", InvalidArgument, "config.metadata.name", Create(r => r.Config.Metadata.Name = name));
        }
        yield return Row(rpc, "pod_sandbox_id of 1 MiB", InvalidArgument, "pod_sandbox_id", CreateIn(OneMebibyte, _ => { }));
        yield return Row(rpc, "config.metadata.name of 1 MiB", InvalidArgument, "config.metadata.name", Create(r => r.Config.Metadata.Name = OneMebibyte));
        yield return Row(rpc, "config.log_path climbing out", InvalidArgument, "config.log_path", Create(r => r.Config.LogPath = "../../../etc/crioci-escape.log"));
        yield return Row(rpc, "absolute config.log_path", InvalidArgument, "config.log_path", Create(r => r.Config.LogPath = "/etc/crioci-escape.log"));
        yield return Row(rpc, "relative sandbox_config.log_directory", InvalidArgument, "sandbox_config.log_directory",
            Create(r => r.SandboxConfig.LogDirectory = "relative/logs"));
        yield return Row(rpc, "sandbox_config.linux.cgroup_parent climbing out", InvalidArgument, "sandbox_config.linux.cgroup_parent",
            Create(r => r.SandboxConfig.Linux = new LinuxPodSandboxConfig { CgroupParent = "../cpu/escape" }));
        yield return Row(rpc, "image reference \"../x\"", NotFound, "../x", Create(r => r.Config.Image.Image = "../x"));
        yield return Row(rpc, "image reference of 1 MiB", NotFound, "image", Create(r => r.Config.Image.Image = OneMebibyte));
        yield return Row(rpc, "invalid mount propagation", InvalidArgument, "config.mounts",
            Create(r => r.Config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = "/tmp", Propagation = (MountPropagation)InvalidEnum })));
        yield return Row(rpc, "invalid pid namespace mode", InvalidArgument, "config.linux.security_context.namespace_options.pid",
            Create(r => r.Config.Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = (NamespaceMode)InvalidEnum } },
            }));
        yield return Row(rpc, "invalid seccomp profile type", InvalidArgument, "config.linux.security_context.seccomp",
            Create(r => r.Config.Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext
                {
                    Seccomp = new SecurityProfile { ProfileType = (SecurityProfile.Types.ProfileType)InvalidEnum },
                },
            }));
    }

    private static IEnumerable<BadRequest> ListContainers()
    {
        const string rpc = "ListContainers";
        yield return Row(rpc, "empty request", OK, null, c => c.Runtime.ListContainersAsync(new ListContainersRequest()).ResponseAsync);
        yield return Row(rpc, "filter by unknown pod", OK, null, c => ExpectNoneAsync(c.Runtime.ListContainersAsync(
            new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = UnknownId } }).ResponseAsync, r => r.Containers.Count));
        yield return Row(rpc, "filter by ID \"../x\"", OK, null, c => ExpectNoneAsync(c.Runtime.ListContainersAsync(
            new ListContainersRequest { Filter = new ContainerFilter { Id = "../x" } }).ResponseAsync, r => r.Containers.Count));
        yield return Row(rpc, "filter by invalid state", OK, null, c => ExpectNoneAsync(c.Runtime.ListContainersAsync(
            new ListContainersRequest { Filter = new ContainerFilter { State = new ContainerStateValue { State = (ContainerState)InvalidEnum } } }).ResponseAsync,
            r => r.Containers.Count));
    }

    private static IEnumerable<BadRequest> UpdateContainerResources()
    {
        const string rpc = "UpdateContainerResources";
        var resources = new LinuxContainerResources { CpuShares = 512 };
        foreach (var row in IdRows(rpc, "container_id", unknown: NotFound, (c, id) => c.Runtime.UpdateContainerResourcesAsync(
            new UpdateContainerResourcesRequest { ContainerId = id, Linux = resources }).ResponseAsync))
        {
            yield return row;
        }
        yield return Row(rpc, "no linux", InvalidArgument, "linux",
            c => c.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest { ContainerId = UnknownId }).ResponseAsync);
    }

    private static IEnumerable<BadRequest> ExecSync()
    {
        const string rpc = "ExecSync";
        yield return Row(rpc, "empty request", InvalidArgument, "container_id", c => c.Runtime.ExecSyncAsync(new ExecSyncRequest()).ResponseAsync);
        foreach (var row in IdRows(rpc, "container_id", unknown: NotFound,
            (c, id) => c.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { "true" } }).ResponseAsync))
        {
            yield return row;
        }
        yield return Row(rpc, "empty cmd", InvalidArgument, "cmd",
            c => c.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = UnknownId }).ResponseAsync);
        yield return Row(rpc, "negative timeout", InvalidArgument, "timeout",
            c => c.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = UnknownId, Cmd = { "true" }, Timeout = -1 }).ResponseAsync);
    }

    private static IEnumerable<BadRequest> StreamingAndMetrics()
    {
        yield return Row("ListPodSandboxStats", "filter by ID \"../x\"", OK, null, c => ExpectNoneAsync(c.Runtime.ListPodSandboxStatsAsync(
            new ListPodSandboxStatsRequest { Filter = new PodSandboxStatsFilter { Id = "../x" } }).ResponseAsync, r => r.Stats.Count));
        yield return Row("ListPodSandboxStats", "empty request", OK, null, c => c.Runtime.ListPodSandboxStatsAsync(new ListPodSandboxStatsRequest()).ResponseAsync);
        yield return Row("ListMetricDescriptors", "empty request", OK, null, c => c.Runtime.ListMetricDescriptorsAsync(new ListMetricDescriptorsRequest()).ResponseAsync);
        yield return Row("ListPodSandboxMetrics", "empty request", OK, null, c => c.Runtime.ListPodSandboxMetricsAsync(new ListPodSandboxMetricsRequest()).ResponseAsync);
        yield return Row("PortForward", "port 0", InvalidArgument, "port", c => c.Runtime.PortForwardAsync(
            new PortForwardRequest { PodSandboxId = UnknownId, Port = { 0 } }).ResponseAsync);
        yield return Row("PortForward", "port 70000", InvalidArgument, "port", c => c.Runtime.PortForwardAsync(
            new PortForwardRequest { PodSandboxId = UnknownId, Port = { 70000 } }).ResponseAsync);
    }

    private static IEnumerable<BadRequest> ListContainerStats()
    {
        const string rpc = "ListContainerStats";
        yield return Row(rpc, "empty request", OK, null, c => c.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest()).ResponseAsync);
        yield return Row(rpc, "filter by ID \"../x\"", OK, null, c => ExpectNoneAsync(c.Runtime.ListContainerStatsAsync(
            new ListContainerStatsRequest { Filter = new ContainerStatsFilter { Id = "../x" } }).ResponseAsync, r => r.Stats.Count));
    }

    private static IEnumerable<BadRequest> UpdateRuntimeConfig()
    {
        const string rpc = "UpdateRuntimeConfig";
        yield return Row(rpc, "empty request", OK, null, c => c.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest()).ResponseAsync);
        yield return Row(rpc, "pod_cidr not a CIDR", InvalidArgument, "pod_cidr", c => c.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new Cri.V1.RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "../x" } },
        }).ResponseAsync);
    }

    private static IEnumerable<BadRequest> ListImages()
    {
        const string rpc = "ListImages";
        yield return Row(rpc, "empty request", OK, null, c => c.Images.ListImagesAsync(new ListImagesRequest()).ResponseAsync);
        yield return Row(rpc, "filter \"../x\"", OK, null, c => ExpectNoneAsync(c.Images.ListImagesAsync(
            new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = "../x" } } }).ResponseAsync, r => r.Images.Count));
        yield return Row(rpc, "filter of 1 MiB", OK, null, c => ExpectNoneAsync(c.Images.ListImagesAsync(
            new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = OneMebibyte } } }).ResponseAsync, r => r.Images.Count));
    }

    /// <summary>api.proto ImageStatus: an image that is not present is an answer without image, never an error.</summary>
    private static IEnumerable<BadRequest> ImageStatus()
    {
        const string rpc = "ImageStatus";
        yield return Row(rpc, "empty request", InvalidArgument, "image", c => c.Images.ImageStatusAsync(new ImageStatusRequest()).ResponseAsync);
        yield return Row(rpc, "empty image.image", InvalidArgument, "image.image",
            c => c.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec() }).ResponseAsync);
        foreach (var reference in new[] { "registry.invalid/unknown:latest", "../x", "a b", OneMebibyte })
        {
            yield return Row(rpc, $"image.image \"{Shorten(reference)}\"", OK, null, c => ExpectNoneAsync(c.Images.ImageStatusAsync(
                new ImageStatusRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync, r => r.Image is null ? 0 : 1));
        }
    }

    private static IEnumerable<BadRequest> PullImage()
    {
        const string rpc = "PullImage";
        yield return Row(rpc, "empty request", InvalidArgument, "image", c => c.Images.PullImageAsync(new PullImageRequest()).ResponseAsync);
        yield return Row(rpc, "empty image.image", InvalidArgument, "image.image",
            c => c.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec() }).ResponseAsync);
        foreach (var reference in new[] { "../x", "a/../b", "a b", "registry.test/Upper", "busybox@sha256:nothex", ":tag", OneMebibyte })
        {
            yield return Row(rpc, $"image.image \"{Shorten(reference)}\"", InvalidArgument, "image reference",
                c => c.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync);
        }
        yield return Row(rpc, "message over 16 MiB", ResourceExhausted, null,
            c => c.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = SeventeenMebibytes } }).ResponseAsync);
    }

    /// <summary>api.proto RemoveImage is idempotent: a reference that names nothing is removed already.</summary>
    private static IEnumerable<BadRequest> RemoveImage()
    {
        const string rpc = "RemoveImage";
        yield return Row(rpc, "empty request", InvalidArgument, "image", c => c.Images.RemoveImageAsync(new RemoveImageRequest()).ResponseAsync);
        yield return Row(rpc, "empty image.image", InvalidArgument, "image.image",
            c => c.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec() }).ResponseAsync);
        foreach (var reference in new[] { "sha256:" + new string('0', 64), "../x", OneMebibyte })
        {
            yield return Row(rpc, $"image.image \"{Shorten(reference)}\"", OK, null,
                c => c.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = reference } }).ResponseAsync);
        }
    }

    /// <summary>For OK rows that must also find nothing: a filter that matched would be a bug too.</summary>
    private static async Task ExpectNoneAsync<T>(Task<T> call, Func<T, int> count)
    {
        var found = count(await call);
        if (found != 0)
        {
            throw new InvalidOperationException($"expected nothing to match, got {found}");
        }
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : $"{value[..8]}... ({value.Length} characters)";
}
