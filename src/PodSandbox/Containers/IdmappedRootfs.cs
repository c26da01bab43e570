using System.Globalization;
using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// A container's root file system in a pod with its own user namespace. The image's layers are
/// shared by every pod and owned by the host's ids, which mean no one inside; copying them per
/// pod would cost a pull's worth of disk. As containerd 2's overlay snapshotter does, each
/// layer is id-mapped by the pod's user namespace (overlay takes id-mapped lower layers since
/// Linux 5.19), so the host's root shows as the pod's root; the writable layer is the pod
/// root's own, so what the container writes is owned on disk by its host ids.
/// </summary>
internal static partial class IdmappedRootfs
{
    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lchown(string path, uint owner, uint group);

    /// <param name="scratch">An empty directory for the layers' temporary mount points; gone afterwards.</param>
    public static void Mount(IMounter mounter, IReadOnlyList<string> layers, string upper, string work, string target, string scratch,
        string userNamespacePath, (uint Uid, uint Gid) podRoot)
    {
        // The upper dir's root is the container's "/" (overlay takes a merged directory's owner from its upper).
        Errno.Check(lchown(upper, podRoot.Uid, podRoot.Gid), "chown", upper);
        Directory.CreateDirectory(scratch);
        var mapped = new List<string>();
        try
        {
            foreach (var layer in layers)
            {
                var point = Path.Combine(scratch, mapped.Count.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(point);
                mapped.Add(point);
                mounter.BindIdmapped(layer, point, userNamespacePath);
            }
            mounter.MountOverlay(mapped, upper, work, target);
        }
        finally
        {
            // The overlay holds its own references to its layers: the mount points go at once,
            // and nothing is left to clean up at removal or after a daemon restart.
            // Never a recursive delete: a mount point left mounted would take the image's files with it.
            foreach (var point in mapped)
            {
                mounter.Unmount(point);
                Directory.Delete(point);
            }
            Directory.Delete(scratch);
        }
    }
}
