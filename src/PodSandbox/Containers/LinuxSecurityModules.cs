using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.OciRuntime.Security;

namespace CriOci.PodSandbox.Containers;

/// <summary>
/// The Linux security modules this node enforces, and what a container's AppArmor and SELinux
/// settings become on it. What the node cannot apply is refused with the field named, never
/// dropped: a pod that asked for confinement must not run without it.
/// </summary>
public sealed class LinuxSecurityModules(HostSecurityModules host, IAppArmorProfiles appArmorProfiles)
{
    private readonly SemaphoreSlim _defaultProfileLock = new(1, 1);
    private volatile bool _defaultProfileLoaded;

    public static LinuxSecurityModules None { get; } = new(HostSecurityModules.None, new AppArmorProfiles());

    public bool AppArmor => host.AppArmor;

    public bool SELinux => host.SELinux;

    public static LinuxSecurityModules Detect() => new(HostSecurityModules.Detect(), new AppArmorProfiles());

    /// <summary>
    /// process.apparmorProfile, as containerd sets it: RuntimeDefault (or nothing asked) gets
    /// <see cref="AppArmorDefaultProfile"/> on an AppArmor node, loaded on first use, except for
    /// privileged containers; Unconfined gets nothing; Localhost gets the named profile, which
    /// must be loaded already. Without AppArmor only a Localhost profile is refused: kubelet
    /// asks for RuntimeDefault on every node.
    /// </summary>
    public async Task<string?> AppArmorProfileAsync(LinuxContainerSecurityContext? security, CancellationToken cancellationToken)
    {
        var request = AppArmorRequest.From(security);
        switch (request.Type)
        {
            case SecurityProfile.Types.ProfileType.Localhost:
                var name = request.LocalhostName!;
                if (!host.AppArmor)
                {
                    throw new FailedPreconditionException($"linux.security_context.apparmor: Localhost profile {name} asked for, but AppArmor is not enabled on this node");
                }
                if (!appArmorProfiles.IsLoaded(name))
                {
                    throw new FailedPreconditionException(
                        $"linux.security_context.apparmor: Localhost profile {name} is not loaded on this node (not in {AppArmorProfiles.ProfilesFile})");
                }
                return name;
            case SecurityProfile.Types.ProfileType.RuntimeDefault when host.AppArmor && security?.Privileged != true:
                await EnsureDefaultProfileLoadedAsync(cancellationToken).ConfigureAwait(false);
                return AppArmorDefaultProfile.Name;
            default:
                return null;
        }
    }

    /// <summary>Once per daemon: a profile already loaded (by an earlier daemon, say) is left as it is.</summary>
    private async Task EnsureDefaultProfileLoadedAsync(CancellationToken cancellationToken)
    {
        if (_defaultProfileLoaded)
        {
            return;
        }
        await _defaultProfileLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_defaultProfileLoaded && !appArmorProfiles.IsLoaded(AppArmorDefaultProfile.Name))
            {
                await appArmorProfiles.LoadAsync(AppArmorDefaultProfile.Name, AppArmorDefaultProfile.Generate(), cancellationToken).ConfigureAwait(false);
            }
            _defaultProfileLoaded = true;
        }
        finally
        {
            _defaultProfileLock.Release();
        }
    }

    /// <summary>
    /// process.selinuxLabel and linux.mountLabel on an SELinux node (<see cref="SELinuxLabels.For"/>);
    /// a privileged container that names no options runs with the runtime's own label, as
    /// under containerd. Without SELinux, options are refused and nothing is labelled.
    /// </summary>
    public SELinuxLabels? SELinuxLabelsFor(LinuxContainerSecurityContext? container, LinuxSandboxSecurityContext? pod, string podId)
    {
        CheckSELinux(container?.SelinuxOptions, "config.linux.security_context.selinux_options");
        CheckSELinux(pod?.SelinuxOptions, "sandbox_config.linux.security_context.selinux_options");
        if (!host.SELinux)
        {
            return null;
        }
        if (container?.Privileged == true && SELinuxLabels.IsEmpty(container.SelinuxOptions) && SELinuxLabels.IsEmpty(pod?.SelinuxOptions))
        {
            return null;
        }
        return SELinuxLabels.For(container?.SelinuxOptions, pod?.SelinuxOptions, podId);
    }

    /// <summary>
    /// The label of the pod's own file systems (its /dev/shm) on an SELinux node: the file label
    /// its containers get by default, so they can use what they share.
    /// </summary>
    public string? PodMountLabel(LinuxSandboxSecurityContext? pod, string podId) =>
        host.SELinux ? SELinuxLabels.For(null, pod?.SelinuxOptions, podId).MountLabel : null;

    /// <summary>SELinux options on a node without SELinux are refused, naming the field.</summary>
    public void CheckSELinux(SELinuxOption? options, string field)
    {
        if (!host.SELinux && !SELinuxLabels.IsEmpty(options))
        {
            throw new FailedPreconditionException($"{field}: SELinux labels asked for, but SELinux is not enabled on this node");
        }
    }
}
