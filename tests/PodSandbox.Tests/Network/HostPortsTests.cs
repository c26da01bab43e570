using System.Net;
using System.Net.Sockets;
using CriOci.Core;
using CriOci.Cri.V1;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

public sealed class HostPortsTests
{
    private static PortMapping Port(int hostPort, Protocol protocol = Protocol.Tcp, string hostIp = "") =>
        new() { HostPort = hostPort, ContainerPort = 80, Protocol = protocol, HostIp = hostIp };

    [Fact]
    public void EnsureFree_PortListenedOnByTheHost_FailedPreconditionNamingIt()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var error = Assert.Throws<FailedPreconditionException>(() => HostPorts.EnsureFree([Port(port)], []));

        Assert.Equal($"hostPort {port}/tcp is already in use on the host", error.Message);
    }

    public static TheoryData<PortMapping, PortMapping, bool> OtherPodCases => new()
    {
        { Port(30080), Port(30080), true },
        { Port(30080, hostIp: "127.0.0.1"), Port(30080), true },
        { Port(30080), Port(30080, hostIp: "127.0.0.1"), true },
        { Port(30080, hostIp: "127.0.0.1"), Port(30080, hostIp: "127.0.0.2"), false },
        { Port(30080, Protocol.Udp), Port(30080), false },
        { Port(30081), Port(30080), false },
    };

    [Theory]
    [MemberData(nameof(OtherPodCases))]
    public void EnsureFree_PortOfAnotherPod_ClashesOnSamePortProtocolAndAddress(PortMapping wanted, PortMapping other, bool clash)
    {
        var check = () => HostPorts.EnsureFree([wanted], [other]);

        if (clash)
        {
            Assert.Contains("already used by another pod", Assert.Throws<FailedPreconditionException>(check).Message);
        }
        else
        {
            check();
        }
    }

    [Fact]
    public void EnsureFree_SamePortTwice_InvalidArgument() =>
        Assert.Throws<InvalidArgumentException>(() => HostPorts.EnsureFree([Port(30080), Port(30080)], []));

    [Fact]
    public void EnsureFree_NoHostPorts_Nothing() => HostPorts.EnsureFree([new PortMapping { ContainerPort = 80 }], []);
}
