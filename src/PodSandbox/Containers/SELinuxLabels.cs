using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// A container's SELinux labels: the process label (process.selinuxLabel) and the label of the
/// file systems the runtime mounts for it (linux.mountLabel).
/// </summary>
public sealed record SELinuxLabels(string ProcessLabel, string MountLabel)
{
    // container-selinux's contexts (its lxc_contexts "process" and "file" entries), which
    // containerd and CRI-O start from; a part the pod or container names replaces its default.
    public const string DefaultUser = "system_u";
    public const string DefaultRole = "system_r";
    public const string DefaultType = "container_t";
    public const string FileRole = "object_r";
    public const string FileType = "container_file_t";

    /// <summary>The number of MCS categories (c0..c1023) of the usual MLS policy.</summary>
    private const int Categories = 1024;

    /// <summary>
    /// The container's options when it has any, else the pod's (containerd's order). The MLS
    /// level is the container's, else the pod's, else one of the pod's own, so every container
    /// of a pod shares its files and no other pod does.
    /// </summary>
    public static SELinuxLabels For(SELinuxOption? container, SELinuxOption? pod, string podId)
    {
        var options = IsEmpty(container) ? pod : container;
        var user = NonEmpty(options?.User) ?? DefaultUser;
        var level = NonEmpty(options?.Level) ?? NonEmpty(pod?.Level) ?? PodLevel(podId);
        return new SELinuxLabels(
            $"{user}:{NonEmpty(options?.Role) ?? DefaultRole}:{NonEmpty(options?.Type) ?? DefaultType}:{level}",
            $"{user}:{FileRole}:{FileType}:{level}");
    }

    /// <summary>
    /// "s0:cA,cB", two distinct categories (A below B) drawn from the pod's id. containerd draws
    /// them at random and reserves them in memory; drawn from the id they come out the same after
    /// a daemon restart without being stored, and two pods share a pair as rarely as at random.
    /// </summary>
    public static string PodLevel(string podId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(podId));
        var first = (int)(BinaryPrimitives.ReadUInt32LittleEndian(hash) % Categories);
        // The second from the 1023 others, so the two always differ.
        var second = (first + 1 + (int)(BinaryPrimitives.ReadUInt32LittleEndian(hash.AsSpan(4)) % (Categories - 1))) % Categories;
        return $"s0:c{Math.Min(first, second)},c{Math.Max(first, second)}";
    }

    public static bool IsEmpty(SELinuxOption? options) =>
        options is null || (options.User.Length == 0 && options.Role.Length == 0 && options.Type.Length == 0 && options.Level.Length == 0);

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
