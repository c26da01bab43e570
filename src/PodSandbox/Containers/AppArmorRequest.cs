using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// What a container's security context asks of AppArmor: the structured field when set,
/// else the deprecated string field ("runtime/default", "unconfined", "localhost/NAME"), which
/// older kubelets still send. Neither set means RuntimeDefault, as in containerd
/// (kubernetes#51746: a container without a profile gets the runtime's default).
/// </summary>
public sealed record AppArmorRequest(SecurityProfile.Types.ProfileType Type, string? LocalhostName = null)
{
    public const string LocalhostPrefix = "localhost/";

    public static AppArmorRequest RuntimeDefault { get; } = new(SecurityProfile.Types.ProfileType.RuntimeDefault);

    public static AppArmorRequest From(LinuxContainerSecurityContext? security)
    {
        if (security?.Apparmor is { } profile)
        {
            return profile.ProfileType == SecurityProfile.Types.ProfileType.Localhost
                ? Localhost(profile.LocalhostRef, "linux.security_context.apparmor.localhost_ref")
                : new AppArmorRequest(profile.ProfileType);
        }
#pragma warning disable CS0612 // the deprecated field is read on purpose, for older kubelets
        var legacy = security?.ApparmorProfile ?? "";
#pragma warning restore CS0612
        return legacy switch
        {
            "" or "runtime/default" => RuntimeDefault,
            "unconfined" => new AppArmorRequest(SecurityProfile.Types.ProfileType.Unconfined),
            _ when legacy.StartsWith(LocalhostPrefix, StringComparison.Ordinal) => Localhost(legacy, "linux.security_context.apparmor_profile"),
            _ => throw new InvalidArgumentException(
                $"linux.security_context.apparmor_profile: unknown profile \"{legacy}\" (runtime/default, unconfined or localhost/NAME)"),
        };
    }

    /// <summary>The profile's name; a "localhost/" prefix is dropped, as containerd does for either field.</summary>
    private static AppArmorRequest Localhost(string reference, string field)
    {
        var name = reference.StartsWith(LocalhostPrefix, StringComparison.Ordinal) ? reference[LocalhostPrefix.Length..] : reference;
        if (name.Length == 0 || name.Contains('\n', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidArgumentException($"{field}: \"{reference}\" names no AppArmor profile");
        }
        return new AppArmorRequest(SecurityProfile.Types.ProfileType.Localhost, name);
    }
}
