using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;

namespace CriOci.PodSandbox;

internal sealed partial class Mounter : IMounter
{
    private const ulong MS_RDONLY = 1;
    private const ulong MS_NOSUID = 2;
    private const ulong MS_NODEV = 4;
    private const ulong MS_NOEXEC = 8;
    private const ulong MS_REMOUNT = 32;
    private const ulong MS_BIND = 4096;
    private const int MNT_DETACH = 2;
    private const int UMOUNT_NOFOLLOW = 8;
    private const int EINVAL = 22;

    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int mount(string source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int umount2(string target, int flags);

    public void Bind(string source, string target, bool readOnly)
    {
        Errno.Check(mount(source, target, null, MS_BIND, null), "bind mount", $"{source} on {target}");
        if (readOnly)
        {
            Errno.Check(mount("none", target, null, MS_BIND | MS_REMOUNT | MS_RDONLY, null), "remount ro", target);
        }
    }

    public void MountTmpfs(string target, string options) =>
        Errno.Check(mount("shm", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options), "mount tmpfs", target);

    public void MountOverlay(IReadOnlyList<string> lowerDirectories, string upperDirectory, string workDirectory, string target)
    {
        var options = $"lowerdir={string.Join(':', lowerDirectories)},upperdir={upperDirectory},workdir={workDirectory}";
        Errno.Check(mount("overlay", target, "overlay", 0, options), "mount overlay", target);
    }

    public void MountReadOnlyOverlay(IReadOnlyList<string> lowerDirectories, string target) =>
        Errno.Check(mount("overlay", target, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, $"lowerdir={string.Join(':', lowerDirectories)}"), "mount overlay", target);

    public void BindIdmapped(string source, string target, string userNamespacePath) =>
        OciRuntime.Linux.IdmappedBind.Mount(source, target, userNamespacePath);

    public void Unmount(string target)
    {
        // Loop: the same path may carry stacked mounts.
        for (var i = 0; i < 16; i++)
        {
            if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            {
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno is EINVAL or Errno.ENOENT)
            {
                return; // not a mount point (any more), or gone
            }
            Errno.Check(-1, "umount", target);
        }
    }
}
