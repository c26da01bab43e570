namespace CriOci.OciRuntime.Security;

/// <summary>
/// linux.mountLabel: the SELinux context of the file systems the runtime creates for the
/// container, given to the kernel as a context="..." mount option (runc's and crun's form,
/// appended to the mount's own data).
/// </summary>
public static class MountLabel
{
    /// <summary>
    /// proc, sysfs and the cgroup file systems are labelled by the policy and refuse a context
    /// option (runc mounts them without); a bind mount ignores mount data altogether. Every other
    /// file system the runtime mounts (tmpfs, devpts, mqueue, ...) gets the label.
    /// </summary>
    public static bool Applies(string? type, bool bind) =>
        !bind && type is not ("proc" or "sysfs" or "cgroup" or "cgroup2");

    /// <summary><paramref name="data"/> with the context option added, or unchanged without a label.</summary>
    public static string AddTo(string data, string? label) =>
        string.IsNullOrEmpty(label) ? data
        : data.Length == 0 ? $"context=\"{label}\""
        : $"{data},context=\"{label}\"";
}
