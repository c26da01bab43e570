using CriOci.Core;
using CriOci.PodSandbox.Sandboxes;

namespace CriOci.PodSandbox.Tests.Sandboxes;

public sealed class PodSysctlsTests
{
    [Theory]
    [InlineData("kernel.shmmax", PodSysctls.Namespace.Ipc)]
    [InlineData("kernel.shm_rmid_forced", PodSysctls.Namespace.Ipc)]
    [InlineData("kernel.msgmax", PodSysctls.Namespace.Ipc)]
    [InlineData("kernel.sem", PodSysctls.Namespace.Ipc)]
    [InlineData("fs.mqueue.msg_max", PodSysctls.Namespace.Ipc)]
    [InlineData("net.core.somaxconn", PodSysctls.Namespace.Network)]
    [InlineData("net.ipv4.conf.all.rp_filter", PodSysctls.Namespace.Network)]
    [InlineData("net.ipv4.ip_unprivileged_port_start", PodSysctls.Namespace.Network)]
    public void NamespaceOf_NamespacedSysctl_IsItsNamespace(string name, PodSysctls.Namespace expected) =>
        Assert.Equal(expected, PodSysctls.NamespaceOf(name));

    [Theory]
    [InlineData("kernel.pid_max")]
    [InlineData("vm.overcommit_memory")]
    [InlineData("kernel.semx")]
    [InlineData("kernel.shm")]
    [InlineData("fs.mqueue.")]
    [InlineData("net.")]
    [InlineData("net")]
    [InlineData("fs.file-max")]
    [InlineData("net/ipv4/ip_forward")]
    [InlineData("net.ipv4..ip_forward")]
    [InlineData("net.ipv4.conf.all/../../../kernel.pid_max")]
    [InlineData(".net.core.somaxconn")]
    [InlineData("net.core.somaxconn.")]
    [InlineData("net.core.some maxconn")]
    [InlineData("")]
    public void NamespaceOf_NotANamespacedSysctl_IsNull(string name) => Assert.Null(PodSysctls.NamespaceOf(name));

    [Fact]
    public void Validate_AllowedSysctlsInOwnNamespaces_Passes() =>
        PodSysctls.Validate(new Dictionary<string, string>
        {
            ["net.core.somaxconn"] = "1024",
            ["net.ipv4.ip_local_port_range"] = "1024\t65000",
            ["kernel.shmmax"] = "68719476736",
        }, hostNetwork: false, hostIpc: false);

    [Theory]
    [InlineData("kernel.pid_max", "1", false, false)]
    [InlineData("vm.swappiness", "1", false, false)]
    [InlineData("net.core.somaxconn", "1", true, false)]
    [InlineData("kernel.shmmax", "1", false, true)]
    [InlineData("fs.mqueue.msg_max", "1", false, true)]
    [InlineData("net.core.somaxconn", "1\n2", false, false)]
    [InlineData("net.core.somaxconn", "", false, false)]
    [InlineData("net.core.somaxconn", "1\0", false, false)]
    public void Validate_NotAllowed_ThrowsInvalidArgumentNamingTheSysctl(string name, string value, bool hostNetwork, bool hostIpc)
    {
        var error = Assert.Throws<InvalidArgumentException>(() =>
            PodSysctls.Validate(new Dictionary<string, string> { [name] = value }, hostNetwork, hostIpc));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }
}
