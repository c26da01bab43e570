using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Spec;
using CriOci.PodSandbox;
using CriOci.PodSandbox.Containers;
using CriOci.PodSandbox.Storage;

namespace CriOci.Bench.Micro;

/// <summary>
/// A container's config.json from its CRI config, pod and image (ContainerSpecBuilder), and its
/// serialisation through the source-generated OciJsonContext: the pure part of CreateContainer.
/// </summary>
[MemoryDiagnoser]
public class SpecGenerationBenchmarks
{
    private const string PodState = "/run/crioci/pods/pod1";

    private ContainerSpecInput _input = null!;
    private RuntimeSpec _spec = null!;

    [GlobalSetup]
    public void SetUp()
    {
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "app", Attempt = 0 },
            Image = new ImageSpec { Image = "busybox" },
            Command = { "sleep", "3600" },
            Envs = { Enumerable.Range(0, 20).Select(i => new KeyValue { Key = $"VAR_{i}", Value = $"value-{i}" }) },
            Mounts = { new Mount { ContainerPath = "/data", HostPath = "/var/lib/app/data" } },
            Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext { Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault } },
                Resources = new LinuxContainerResources { CpuShares = 512, CpuQuota = 50000, CpuPeriod = 100000, MemoryLimitInBytes = 64 << 20 },
            },
        };
        var pod = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "web", Namespace = "shop", Uid = "uid-1", Attempt = 0 },
            Hostname = "web-0",
            Linux = new LinuxPodSandboxConfig { CgroupParent = "/kubepods/burstable/poduid-1" },
        };
        var sandbox = new SandboxRecord("pod1", DateTimeOffset.UnixEpoch, Ready: true, RuntimeHandler: "",
            NetworkNamespace: $"{PodState}/ns/net", IpcNamespace: $"{PodState}/ns/ipc", UtsNamespace: $"{PodState}/ns/uts",
            ShmDirectory: $"{PodState}/shm", HostnameFile: $"{PodState}/hostname", HostsFile: $"{PodState}/hosts",
            ResolvConfFile: $"{PodState}/resolv.conf");
        var image = new ContainerImage("sha256:0123", "docker.io/library/busybox:1.36", ["/layers/a", "/layers/b"], User: null,
            Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Entrypoint: [], Cmd: ["sh"], WorkingDir: "/", StopSignal: null);
        _input = new ContainerSpecInput("c0123456789abcdef", config, pod, sandbox, image, new ResolvedUser(0, 0, []));
        _spec = ContainerSpecBuilder.Build(_input);
    }

    [Benchmark]
    public RuntimeSpec Build() => ContainerSpecBuilder.Build(_input);

    [Benchmark]
    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(_spec, OciJsonContext.Default.RuntimeSpec);

    [Benchmark]
    public byte[] BuildAndSerialize() => JsonSerializer.SerializeToUtf8Bytes(ContainerSpecBuilder.Build(_input), OciJsonContext.Default.RuntimeSpec);
}
