using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// Name, UID and namespace identify the pod (kubelet builds the sandbox name from them);
    /// a sandbox without them could never be matched to its pod again. kubelet makes directory
    /// names of them (/var/log/pods/&lt;namespace&gt;_&lt;name&gt;_&lt;uid&gt;), so none may climb or split a path.
    /// </summary>
    public override async Task<RunPodSandboxResponse> RunPodSandbox(RunPodSandboxRequest request, ServerCallContext context)
    {
        var config = Required(request.Config, "config");
        var metadata = Required(config.Metadata, "config.metadata");
        Name(metadata.Name, "config.metadata.name");
        Name(metadata.Uid, "config.metadata.uid");
        Name(metadata.Namespace, "config.metadata.namespace");
        Hostname(config.Hostname, "config.hostname");
        CgroupParent(config.Linux?.CgroupParent, "config.linux.cgroup_parent");
        NamespaceModes(config.Linux?.SecurityContext?.NamespaceOptions, "config.linux.security_context.namespace_options");
        foreach (var mapping in config.PortMappings)
        {
            Defined(mapping.Protocol, "config.port_mappings.protocol");
        }

        var podSandboxId = await sandboxes.RunPodSandboxAsync(config, request.RuntimeHandler, context.CancellationToken);
        return new RunPodSandboxResponse { PodSandboxId = podSandboxId };
    }
}
