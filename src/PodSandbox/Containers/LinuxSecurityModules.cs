using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// The Linux security modules this node enforces, and what a container's AppArmor and SELinux
/// settings may ask of them. A profile or label that cannot be applied is refused with the field
/// named, never dropped: a pod that asked for confinement must not run without it.
/// </summary>
public sealed record LinuxSecurityModules(bool AppArmor, bool SELinux)
{
    public static LinuxSecurityModules None { get; } = new(false, false);

    public static LinuxSecurityModules Detect() => new(
        AppArmor: ReadTrimmed("/sys/module/apparmor/parameters/enabled") == "Y",
        SELinux: File.Exists("/sys/fs/selinux/enforce"));

    /// <summary>
    /// RuntimeDefault and Unconfined need nothing from the runtime here (kubelet asks for
    /// RuntimeDefault on every AppArmor node; CriOci ships no profile of its own yet). A
    /// Localhost profile is refused: without AppArmor it cannot be applied, and CriOci cannot
    /// load one into the kernel yet either.
    /// </summary>
    public void CheckAppArmor(LinuxContainerSecurityContext? security)
    {
        // Older kubelets still send the deprecated string field ("localhost/NAME").
#pragma warning disable CS0612
        var legacy = security?.ApparmorProfile;
#pragma warning restore CS0612
        var localhost = security?.Apparmor is { ProfileType: SecurityProfile.Types.ProfileType.Localhost } profile
            ? profile.LocalhostRef
            : legacy is not null && legacy.StartsWith("localhost/", StringComparison.Ordinal) ? legacy["localhost/".Length..] : null;
        if (localhost is null)
        {
            return;
        }
        throw new FailedPreconditionException(AppArmor
            ? $"linux.security_context.apparmor: Localhost profile {localhost} asked for; crioci cannot apply AppArmor profiles yet"
            : $"linux.security_context.apparmor: Localhost profile {localhost} asked for, but AppArmor is not enabled on this node");
    }

    /// <summary>SELinux options are refused the same way: no SELinux here, or labels not supported yet.</summary>
    public void CheckSELinux(SELinuxOption? options, string field)
    {
        if (options is null || (options.User.Length == 0 && options.Role.Length == 0 && options.Type.Length == 0 && options.Level.Length == 0))
        {
            return;
        }
        throw new FailedPreconditionException(SELinux
            ? $"{field}: SELinux labels asked for; crioci cannot apply SELinux labels yet"
            : $"{field}: SELinux labels asked for, but SELinux is not enabled on this node");
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
