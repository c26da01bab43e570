using CriOci.Core;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Security;

/// <summary>
/// The Linux security modules this host enforces, read the way runc reads them: AppArmor
/// counts when its securityfs directory exists and the module's "enabled" parameter is Y;
/// SELinux when selinuxfs is mounted. Read before pivot_root or setns: inside a container
/// neither securityfs nor selinuxfs is normally visible.
/// </summary>
public sealed record HostSecurityModules(bool AppArmor, bool SELinux)
{
    public static HostSecurityModules None { get; } = new(false, false);

    /// <param name="hostRoot">Where the host's /sys is found; "/" except in tests.</param>
    public static HostSecurityModules Detect(string hostRoot = "/") => new(
        AppArmor: Directory.Exists(Path.Combine(hostRoot, "sys/kernel/security/apparmor"))
            && StartsWithY(Path.Combine(hostRoot, "sys/module/apparmor/parameters/enabled")),
        SELinux: File.Exists(Path.Combine(hostRoot, "sys/fs/selinux/enforce")));

    /// <summary>
    /// A profile or label the host cannot apply is refused with the config.json field named:
    /// running the process unconfined instead would silently drop what was asked for (runc
    /// refuses too).
    /// </summary>
    public void CheckProcess(ProcessSpec? process)
    {
        if (!AppArmor && process?.ApparmorProfile is { Length: > 0 } profile)
        {
            throw new FailedPreconditionException($"process.apparmorProfile: profile {profile} asked for, but AppArmor is not enabled on this host");
        }
        if (!SELinux && process?.SelinuxLabel is { Length: > 0 } label)
        {
            throw new FailedPreconditionException($"process.selinuxLabel: label {label} asked for, but SELinux is not enabled on this host");
        }
    }

    /// <summary>The process's profile and label, and linux.mountLabel, as <see cref="CheckProcess"/> does.</summary>
    public void CheckSpec(RuntimeSpec spec)
    {
        CheckProcess(spec.Process);
        if (!SELinux && spec.Linux?.MountLabel is { Length: > 0 } mountLabel)
        {
            throw new FailedPreconditionException($"linux.mountLabel: label {mountLabel} asked for, but SELinux is not enabled on this host");
        }
    }

    /// <summary><see cref="CheckSpec"/> against this host, read only when the spec asks for a profile or label.</summary>
    public static void CheckSpecOnThisHost(RuntimeSpec spec)
    {
        if (Wanted(spec.Process) || spec.Linux?.MountLabel is { Length: > 0 })
        {
            Detect().CheckSpec(spec);
        }
    }

    /// <summary>Whether <paramref name="process"/> asks for anything of an LSM (so detection can be skipped when not).</summary>
    public static bool Wanted(ProcessSpec? process) =>
        process?.ApparmorProfile is { Length: > 0 } || process?.SelinuxLabel is { Length: > 0 };

    private static bool StartsWithY(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            return text.Length > 0 && text[0] == 'Y';
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
