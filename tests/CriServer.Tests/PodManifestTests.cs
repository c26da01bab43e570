using CriOci.Cri.V1;
using CriOci.Play;

namespace CriOci.CriServer.Tests;

/// <summary>crioci play's manifest reading (YAML to KubernetesClient's V1Pod) and its mapping to CRI configs.</summary>
public sealed class PodManifestTests
{
    private const string TwoContainers = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          labels: { app: web, tier: "1" }
        spec:
          hostNetwork: false
          securityContext:
            runAsUser: 1000
            supplementalGroups: [5, 6]
          initContainers:
            - name: init
              image: busybox
              command: [sh, -c, "echo hi"]
          containers:
            - name: app
              image: registry.local/app:1
              args: ["--port", "8080"]
              env:
                - { name: A, value: "1" }
                - name: EMPTY
              ports:
                - { containerPort: 8080, hostPort: 18080 }
                - { containerPort: 53, protocol: UDP }
              resources:
                requests: { cpu: 250m }
                limits: { cpu: "2", memory: 128Mi }
              securityContext:
                runAsUser: 0
                privileged: true
                readOnlyRootFilesystem: true
                allowPrivilegeEscalation: false
                capabilities: { add: [NET_ADMIN], drop: [ALL] }
            - name: side
              image: busybox
              tty: true
        """;

    [Fact]
    public void Parse_TwoContainerPod_ReadsTheModel()
    {
        var pod = PodManifest.Parse(TwoContainers, "pod.yaml");

        Assert.Equal("web", pod.Metadata.Name);
        Assert.Equal("1", pod.Metadata.Labels["tier"]);
        Assert.Equal(["app", "side"], pod.Spec.Containers.Select(c => c.Name));
        Assert.Equal("init", Assert.Single(pod.Spec.InitContainers).Name);
        Assert.Equal(8080, pod.Spec.Containers[0].Ports[0].ContainerPort);
        Assert.Equal("128Mi", pod.Spec.Containers[0].Resources.Limits["memory"].ToString());
    }

    [Theory]
    [InlineData("kind: Deployment\nmetadata: {name: x}", "kind is \"Deployment\"")]
    [InlineData("kind: Pod\nspec: {containers: [{name: a, image: b}]}", "metadata.name is required")]
    [InlineData("kind: Pod\nmetadata: {name: x}\nspec: {}", "spec.containers needs at least one container")]
    [InlineData("kind: Pod\nmetadata: {name: x\n", "pod.yaml line")]
    [InlineData("- a\n- b", "expected a Pod manifest")]
    [InlineData("kind: Pod\nmetadata: {name: x}\n---\nkind: Pod\n", "more than one YAML document")]
    public void Parse_BadManifest_SaysWhy(string yaml, string problem)
    {
        var error = Assert.Throws<PlayException>(() => PodManifest.Parse(yaml, "pod.yaml"));

        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void SandboxConfig_Pod_LabelsPortsAndNamespaces()
    {
        var pod = PodManifest.Parse(TwoContainers, "pod.yaml");

        var config = PodSpecMapping.SandboxConfig(pod, "uid-1", "/logs/default_web_uid-1");

        Assert.Equal(("web", "default", "uid-1"), (config.Metadata.Name, config.Metadata.Namespace, config.Metadata.Uid));
        Assert.Equal("web", config.Hostname);
        Assert.Equal("web", config.Labels[PodPlayer.PodNameLabel]);
        Assert.Equal("web", config.Labels["app"]);
        var port = Assert.Single(config.PortMappings);
        Assert.Equal((8080, 18080, Protocol.Tcp), (port.ContainerPort, port.HostPort, port.Protocol));
        Assert.Equal(NamespaceMode.Pod, config.Linux.SecurityContext.NamespaceOptions.Network);
        Assert.Equal([5L, 6L], config.Linux.SecurityContext.SupplementalGroups);
    }

    [Fact]
    public void ContainerConfig_App_CommandEnvResourcesAndSecurity()
    {
        var pod = PodManifest.Parse(TwoContainers, "pod.yaml");

        var config = PodSpecMapping.ContainerConfig(pod, pod.Spec.Containers[0]);

        Assert.Empty(config.Command);
        Assert.Equal(["--port", "8080"], config.Args);
        Assert.Equal([("A", "1"), ("EMPTY", "")], config.Envs.Select(e => (e.Key, e.Value)));
        Assert.Equal("app/0.log", config.LogPath);
        var resources = config.Linux.Resources;
        Assert.Equal((256L, 100_000L, 200_000L, 128L << 20), (resources.CpuShares, resources.CpuPeriod, resources.CpuQuota, resources.MemoryLimitInBytes));
        var security = config.Linux.SecurityContext;
        Assert.Equal(0, security.RunAsUser.Value);
        Assert.True(security.Privileged && security.ReadonlyRootfs && security.NoNewPrivs);
        Assert.Equal(["NET_ADMIN"], security.Capabilities.AddCapabilities);
        Assert.Equal(["ALL"], security.Capabilities.DropCapabilities);
    }

    [Fact]
    public void ContainerConfig_PodLevelUser_Inherited()
    {
        var pod = PodManifest.Parse(TwoContainers, "pod.yaml");

        var config = PodSpecMapping.ContainerConfig(pod, pod.Spec.Containers[1]);

        Assert.Equal(1000, config.Linux.SecurityContext.RunAsUser.Value);
        Assert.True(config.Tty);
        Assert.Equal(0, config.Linux.Resources.MemoryLimitInBytes);
    }

    [Fact]
    public void ContainerConfig_EnvValueFrom_RefusedByName()
    {
        var pod = PodManifest.Parse("""
            kind: Pod
            metadata: { name: x }
            spec:
              containers:
                - name: a
                  image: b
                  env:
                    - name: NODE
                      valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
            """, "pod.yaml");

        var error = Assert.Throws<PlayException>(() => PodSpecMapping.ContainerConfig(pod, pod.Spec.Containers[0]));

        Assert.Contains("env NODE: valueFrom", error.Message);
    }
}
