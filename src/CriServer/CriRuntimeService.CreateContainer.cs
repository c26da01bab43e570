using CriOci.Core;
using CriOci.Cri.V1;
using Grpc.Core;
using static CriOci.CriServer.RequestValidation;

namespace CriOci.CriServer;

internal sealed partial class CriRuntimeService
{
    /// <summary>
    /// The image must be pulled already: kubelet pulls first and passes the image ID it got
    /// back; CRI never pulls implicitly on create. sandbox_config is required because the
    /// container's log path and labels come from it (kubelet always sends it). The monitor
    /// writes the log as root at log_directory/log_path, and the container's cgroups go under
    /// cgroup_parent in every controller's mount: neither may lead out of where it belongs.
    /// </summary>
    public override async Task<CreateContainerResponse> CreateContainer(CreateContainerRequest request, ServerCallContext context)
    {
        var podSandboxId = Id(request.PodSandboxId, "pod_sandbox_id");
        var config = Required(request.Config, "config");
        Name(Required(config.Metadata, "config.metadata").Name, "config.metadata.name");
        var reference = Required(Required(config.Image, "config.image").Image, "config.image.image");
        var sandboxConfig = Required(request.SandboxConfig, "sandbox_config");
        RelativeInside(config.LogPath, "config.log_path");
        AbsoluteDirectory(sandboxConfig.LogDirectory, "sandbox_config.log_directory");
        CgroupParent(sandboxConfig.Linux?.CgroupParent, "sandbox_config.linux.cgroup_parent");
        NamespaceModes(config.Linux?.SecurityContext?.NamespaceOptions, "config.linux.security_context.namespace_options");
        if (config.Linux?.SecurityContext?.Seccomp is { } seccomp)
        {
            Defined(seccomp.ProfileType, "config.linux.security_context.seccomp.profile_type");
        }
        var imageVolumes = new Dictionary<int, PodSandbox.ContainerImage>();
        for (var index = 0; index < config.Mounts.Count; index++)
        {
            var mount = config.Mounts[index];
            Defined(mount.Propagation, "config.mounts.propagation");
            if (mount.Image is { Image.Length: > 0 } volume)
            {
                // An image volume (KEP-4639): kubelet pulled it first, as it does the container's image.
                imageVolumes[index] = FindImage(volume.Image, $"image volume {volume.Image} (config.mounts[{index}].image)");
            }
        }

        var image = FindImage(reference, $"image {reference}");
        var containerId = await sandboxes.CreateContainerAsync(podSandboxId, config, sandboxConfig, image, imageVolumes, context.CancellationToken);
        return new CreateContainerResponse { ContainerId = containerId };
    }

    private PodSandbox.ContainerImage FindImage(string reference, string what)
    {
        var record = images.Find(reference) ?? throw new NotFoundException($"{what} not found");
        return ImageMapping.ToContainerImage(record, reference, images.GetLayerDirectories(record));
    }
}
