using System.Globalization;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// Image volumes (CRI Mount.image, KEP-4639): another image's file system mounted read-only
/// into a container. Each such image is mounted once per container under its bundle
/// (image-volumes/N, N the mount's index): a read-only overlay of its layers, or a read-only
/// bind of the only layer, which overlay would refuse without an upper directory on older
/// kernels. The container bind-mounts that directory, or image_sub_path inside it, resolved as
/// if the image were "/" so that a symlink in the image cannot point the mount at a host path.
/// </summary>
internal static class ImageVolumes
{
    public const string DirectoryName = "image-volumes";

    /// <summary>
    /// Mounts every image volume of <paramref name="config"/> (<paramref name="images"/> by
    /// mount index) and returns each one's host source by container path. Each mount is pushed
    /// on <paramref name="rollback"/>.
    /// </summary>
    public static Dictionary<string, string> Mount(IMounter mounter, string bundle, ContainerConfig config,
        IReadOnlyDictionary<int, ContainerImage> images, Rollback rollback)
    {
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (index, image) in images.OrderBy(pair => pair.Key))
        {
            var mount = config.Mounts[index];
            if (image.LayerDirectories.Count == 0)
            {
                throw new InvalidArgumentException($"mounts: image volume {image.Reference} at {mount.ContainerPath} has no layers");
            }
            var target = Path.Combine(bundle, DirectoryName, index.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(target);
            if (image.LayerDirectories.Count == 1)
            {
                mounter.Bind(image.LayerDirectories[0], target, readOnly: true);
            }
            else
            {
                mounter.MountReadOnlyOverlay(image.LayerDirectories, target);
            }
            rollback.Push($"unmount image volume {mount.ContainerPath}", () => mounter.Unmount(target));
            sources[mount.ContainerPath] = SubPath(target, mount);
        }
        return sources;
    }

    /// <summary>Detaches every image volume mounted for the container whose bundle this is; idempotent.</summary>
    public static void Unmount(IMounter mounter, string bundle)
    {
        var directory = Path.Combine(bundle, DirectoryName);
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var target in Directory.EnumerateDirectories(directory))
        {
            mounter.Unmount(target);
        }
    }

    private static string SubPath(string root, Cri.V1.Mount mount)
    {
        if (mount.ImageSubPath.Length == 0)
        {
            return root;
        }
        // Kubernetes forbids ".." and absolute sub paths; refuse them rather than reinterpret.
        if (Path.IsPathRooted(mount.ImageSubPath) || mount.ImageSubPath.Split('/').Contains(".."))
        {
            throw new InvalidArgumentException($"mounts: image_sub_path must be relative without \"..\": {mount.ImageSubPath}");
        }
        using var image = new RootedPath(root);
        var resolved = image.Resolve(mount.ImageSubPath);
        var fd = image.TryOpen(resolved);
        if (fd < 0)
        {
            throw new InvalidArgumentException($"mounts: image_sub_path {mount.ImageSubPath} does not exist in image {mount.Image.Image}");
        }
        new SafeFileHandle(fd, ownsHandle: true).Dispose();
        return Path.Combine(root, resolved);
    }
}
