namespace CriOci.PodSandbox.Containers;

/// <summary>A container's AppArmor profile and SELinux labels, as they go into config.json (null: none).</summary>
public sealed record LinuxSecurityLabels(string? AppArmorProfile, SELinuxLabels? SELinux);
