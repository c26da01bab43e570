using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Sandboxes;

namespace CriOci.PodSandbox.Tests.Sandboxes;

public sealed class SandboxFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-podfiles-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static DNSConfig Dns(string[] servers, string[] searches, string[] options)
    {
        var dns = new DNSConfig();
        dns.Servers.Add(servers);
        dns.Searches.Add(searches);
        dns.Options.Add(options);
        return dns;
    }

    [Fact]
    public void WriteResolvConf_FullDnsConfig_WritesSearchNameserversAndOptions()
    {
        var dns = Dns(["10.96.0.10", "2001:db8::53"], ["shop.svc.cluster.local", "svc.cluster.local"], ["ndots:5", "edns0"]);

        SandboxFiles.WriteResolvConf(PathOf("resolv.conf"), dns);

        Assert.Equal(
            "search shop.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 2001:db8::53\noptions ndots:5 edns0\n",
            File.ReadAllText(PathOf("resolv.conf")));
    }

    [Fact]
    public void WriteResolvConf_ServersOnly_WritesOnlyNameservers()
    {
        SandboxFiles.WriteResolvConf(PathOf("resolv.conf"), Dns(["1.1.1.1"], [], []));

        Assert.Equal("nameserver 1.1.1.1\n", File.ReadAllText(PathOf("resolv.conf")));
    }

    [Fact]
    public void WriteResolvConf_NoDnsConfig_CopiesTheHostsFile()
    {
        var host = File.Exists(SandboxFiles.HostResolvConf) ? File.ReadAllBytes(SandboxFiles.HostResolvConf) : [];

        SandboxFiles.WriteResolvConf(PathOf("a"), null);
        SandboxFiles.WriteResolvConf(PathOf("b"), new DNSConfig());

        Assert.Equal(host, File.ReadAllBytes(PathOf("a")));
        Assert.Equal(host, File.ReadAllBytes(PathOf("b")));
    }

    [Theory]
    [InlineData("dns.example.com")]
    [InlineData("10.0.0.300")]
    [InlineData("1.2.3.4\nnameserver 6.6.6.6")]
    [InlineData("")]
    public void WriteResolvConf_ServerNotAnIpAddress_ThrowsInvalidArgumentAndWritesNothing(string server)
    {
        var exception = Assert.Throws<InvalidArgumentException>(
            () => SandboxFiles.WriteResolvConf(PathOf("resolv.conf"), Dns(["8.8.8.8", server], [], [])));

        Assert.Contains("dns_config.servers", exception.Message);
        Assert.False(File.Exists(PathOf("resolv.conf")));
    }

    [Fact]
    public void WriteHosts_PodNetwork_WritesKubeletsLocalhostEntriesAndTheHostname()
    {
        SandboxFiles.WriteHosts(PathOf("hosts"), "web-0", hostNetwork: false);

        Assert.Equal(
            "127.0.0.1\tlocalhost\n" +
            "::1\tlocalhost ip6-localhost ip6-loopback\n" +
            "fe00::0\tip6-localnet\n" +
            "fe00::0\tip6-mcastprefix\n" +
            "fe00::1\tip6-allnodes\n" +
            "fe00::2\tip6-allrouters\n" +
            "127.0.1.1\tweb-0\n",
            File.ReadAllText(PathOf("hosts")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void WriteHosts_NoHostname_OmitsTheHostnameLine(string? hostname)
    {
        SandboxFiles.WriteHosts(PathOf("hosts"), hostname, hostNetwork: false);

        var text = File.ReadAllText(PathOf("hosts"));
        Assert.DoesNotContain("127.0.1.1", text);
        Assert.EndsWith("fe00::2\tip6-allrouters\n", text);
    }

    [Fact]
    public void WriteHosts_HostNetwork_CopiesTheHostsFile()
    {
        SandboxFiles.WriteHosts(PathOf("hosts"), "web-0", hostNetwork: true);

        Assert.Equal(File.ReadAllBytes("/etc/hosts"), File.ReadAllBytes(PathOf("hosts")));
    }

    [Fact]
    public void WriteHostname_AnyName_WritesItWithNewline()
    {
        SandboxFiles.WriteHostname(PathOf("hostname"), "web-0");

        Assert.Equal("web-0\n", File.ReadAllText(PathOf("hostname")));
    }

    [Theory]
    [InlineData("web-0", "web-0")]
    [InlineData("", "web")]
    public void Hostname_PodConfig_HostnameOrName(string hostname, string expected)
    {
        var config = new PodSandboxConfig { Hostname = hostname, Metadata = new PodSandboxMetadata { Name = "web" } };

        Assert.Equal(expected, SandboxFiles.Hostname(config));
    }

    [Fact]
    public void Write_AnyFile_LeavesNoTemporaryFiles()
    {
        SandboxFiles.WriteHostname(PathOf("hostname"), "web-0");
        SandboxFiles.WriteHosts(PathOf("hosts"), "web-0", hostNetwork: false);
        SandboxFiles.WriteResolvConf(PathOf("resolv.conf"), Dns(["8.8.8.8"], [], []));

        Assert.Equal(["hostname", "hosts", "resolv.conf"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order());
    }
}
