using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Sandboxes;

namespace CriOci.PodSandbox;

/// <summary>
/// A pod's own user namespace (userns_options mode POD). A request the daemon cannot honour is
/// refused: a pod that asked for its own user namespace must never run in the host's.
/// </summary>
internal sealed partial class SandboxManager
{
    private const string PodUsernsField = "config.linux.security_context.namespace_options.userns_options";

    /// <summary>The pod's user namespace (null: the host's), checked against the pod's other namespaces and its handler.</summary>
    private PodUserNamespace? PodUserNamespaceOf(PodSandboxConfig config, string runtimeHandler)
    {
        var options = config.Linux?.SecurityContext?.NamespaceOptions;
        if (PodUserNamespace.From(options, PodUsernsField) is not { } userNamespace)
        {
            return null;
        }
        // KEP-127 (kubelet's validation too): a namespace of the host stays owned by the host's
        // user namespace, where the pod's root is no one.
        foreach (var (name, mode) in new[] { ("network", options!.Network), ("pid", options.Pid), ("ipc", options.Ipc) })
        {
            if (mode == NamespaceMode.Node)
            {
                throw new InvalidArgumentException($"{PodUsernsField}: mode POD cannot be combined with the host's {name} namespace (namespace_options.{name} NODE)");
            }
        }
        var supported = _runtime is Handlers.RuntimeHandlerSet handlers && handlers.SupportsUserNamespaces(runtimeHandler);
        return supported ? userNamespace
            : throw new UnimplementedException(
                $"{PodUsernsField}: runtime handler \"{runtimeHandler}\" cannot run a pod in its own user namespace on this node (RuntimeStatus lists user_namespaces false)");
    }

    /// <summary>
    /// A container's user namespace is its pod's: kubelet repeats the pod's options on each
    /// container; a container without them joins the pod's, and one asking for other maps, or
    /// for the host's namespace in a pod that has its own, is refused.
    /// </summary>
    private static PodUserNamespace? ContainerUserNamespaceOf(string podId, PodSandboxConfig pod, ContainerConfig config)
    {
        const string field = "config.linux.security_context.namespace_options.userns_options";
        var podNamespace = PodUserNamespace.From(pod.Linux?.SecurityContext?.NamespaceOptions, PodUsernsField);
        var options = config.Linux?.SecurityContext?.NamespaceOptions;
        if (options?.UsernsOptions is null)
        {
            return podNamespace;
        }
        var asked = PodUserNamespace.From(options, field);
        if (asked is null && podNamespace is not null)
        {
            throw new InvalidArgumentException($"{field}: mode NODE, but pod sandbox {podId} has its own user namespace, which all its containers share");
        }
        if (asked is not null && podNamespace is null)
        {
            throw new InvalidArgumentException($"{field}: mode POD, but pod sandbox {podId} was created in the host's user namespace");
        }
        if (asked is not null && !asked.SameMaps(podNamespace!))
        {
            throw new InvalidArgumentException($"{field}: the uids/gids differ from those of pod sandbox {podId}, whose user namespace every container shares");
        }
        return podNamespace;
    }
}
