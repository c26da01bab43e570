using System.Text;
using CriOci.Core;
using CriOci.Cri.V1;

namespace CriOci.PodSandbox.Sandboxes;

/// <summary>
/// The per-pod files every container of the pod bind-mounts: hostname, hosts, resolv.conf. They
/// live in the pod's state directory under /run and die with the pod, so they are not fsynced.
/// </summary>
internal static class SandboxFiles
{
    public const string HostResolvConf = "/etc/resolv.conf";

    /// <summary>The longest hostname sethostname(2) and DNS labels accept.</summary>
    public const int MaxHostnameLength = 63;

    /// <summary>
    /// The pod's hostname: the one kubelet sends, else the pod's name cut as kubelet cuts it
    /// (truncatePodHostnameIfNeeded: 63 characters, trailing '-' and '.' removed), since a pod
    /// name may be up to 253 characters long and sethostname refuses more than 64.
    /// </summary>
    public static string Hostname(PodSandboxConfig config)
    {
        if (!string.IsNullOrEmpty(config.Hostname))
        {
            return config.Hostname;
        }
        var name = config.Metadata?.Name ?? "";
        return name.Length <= MaxHostnameLength ? name : name[..MaxHostnameLength].TrimEnd('-', '.');
    }

    public static void WriteHostname(string path, string hostname) => AtomicFile.ReplaceVolatileText(path, hostname + "\n");

    /// <summary>
    /// Loopback entries plus the pod's own hostname on its IP (127.0.1.1 without one, as Debian
    /// does); kubelet replaces this file with its own for most pods.
    /// </summary>
    public static void WriteHosts(string path, string? hostname, bool hostNetwork, string? podIp = null)
    {
        if (hostNetwork && File.Exists("/etc/hosts"))
        {
            AtomicFile.ReplaceVolatile(path, File.ReadAllBytes("/etc/hosts"));
            return;
        }
        var hosts = new StringBuilder()
            .Append("127.0.0.1\tlocalhost\n")
            .Append("::1\tlocalhost ip6-localhost ip6-loopback\n")
            .Append("fe00::0\tip6-localnet\n")
            .Append("fe00::0\tip6-mcastprefix\n")
            .Append("fe00::1\tip6-allnodes\n")
            .Append("fe00::2\tip6-allrouters\n");
        if (!string.IsNullOrEmpty(hostname))
        {
            hosts.Append(string.IsNullOrEmpty(podIp) ? "127.0.1.1" : podIp).Append('\t').Append(hostname).Append('\n');
        }
        AtomicFile.ReplaceVolatileText(path, hosts.ToString());
    }

    /// <summary>resolv.conf from the pod's DNSConfig, or the host's when the pod gives none (kubelet's "Default" policy).</summary>
    public static void WriteResolvConf(string path, DNSConfig? dns)
    {
        if (dns is null || dns.Servers.Count == 0 && dns.Searches.Count == 0 && dns.Options.Count == 0)
        {
            var host = File.Exists(HostResolvConf) ? File.ReadAllBytes(HostResolvConf) : [];
            AtomicFile.ReplaceVolatile(path, host);
            return;
        }
        var text = new StringBuilder();
        if (dns.Searches.Count > 0)
        {
            text.Append("search ").AppendJoin(' ', dns.Searches).Append('\n');
        }
        foreach (var server in dns.Servers)
        {
            if (!System.Net.IPAddress.TryParse(server, out _))
            {
                throw new InvalidArgumentException($"dns_config.servers: not an IP address: {server}");
            }
            text.Append("nameserver ").Append(server).Append('\n');
        }
        if (dns.Options.Count > 0)
        {
            text.Append("options ").AppendJoin(' ', dns.Options).Append('\n');
        }
        AtomicFile.ReplaceVolatileText(path, text.ToString());
    }
}
