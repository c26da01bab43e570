namespace CriOci.PodSandbox.Network;

/// <param name="ConfigDirectory">Where the node's CNI configs live (kubelet and CNI installers write /etc/cni/net.d).</param>
/// <param name="PluginDirectories">CNI_PATH: where plugin binaries are looked up, in order.</param>
/// <param name="PluginTimeout">How long one plugin invocation may take before it is killed and the operation fails.</param>
public sealed record CniOptions(string ConfigDirectory, IReadOnlyList<string> PluginDirectories, TimeSpan PluginTimeout)
{
    /// <summary>
    /// The built-in network's bridge step done in the daemon over rtnetlink instead of by the
    /// bridge and host-local plugins (portmap still runs for pods with host ports). On in
    /// <see cref="Default"/> (so for the daemon); off for options built field by field.
    /// </summary>
    public bool NativeDefaultNetwork { get; init; }

    public const string DefaultConfigDirectory = "/etc/cni/net.d";

    /// <summary>Debian's containernetworking-plugins install into /usr/lib/cni; upstream tarballs into /opt/cni/bin.</summary>
    public static IReadOnlyList<string> DefaultPluginDirectories { get; } = ["/usr/lib/cni", "/opt/cni/bin"];

    public static TimeSpan DefaultPluginTimeout { get; } = TimeSpan.FromSeconds(60);

    public static CniOptions Default { get; } = new(DefaultConfigDirectory, DefaultPluginDirectories, DefaultPluginTimeout) { NativeDefaultNetwork = true };
}
