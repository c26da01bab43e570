using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox.Tests.Network;

public sealed class InterfaceCountersTests
{
    private const string ProcNetDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:     336       4    0    0    0     0          0         0      336       4    0    0    0     0       0          0
          eth0:   15402     121    2    0    0     0          0         0     9270      77    1    0    0     0       0          0
        """;

    [Fact]
    public void ParseProcNetDev_ReadsBytesAndErrors_LeavesLoopbackOut()
    {
        var counters = InterfaceCounters.ParseProcNetDev(ProcNetDev);

        var eth0 = Assert.Single(counters);
        Assert.Equal(new InterfaceCounters("eth0", RxBytes: 15402, RxErrors: 2, TxBytes: 9270, TxErrors: 1), eth0);
    }

    [Fact]
    public void ParseProcNetDev_ShortOrGarbledLines_AreSkipped()
    {
        var counters = InterfaceCounters.ParseProcNetDev("h1\nh2\n eth1: 1 2 3\nnot an interface\n veth9: x 0 0 0 0 0 0 0 y 0 0 0 0 0 0 0\n");

        var veth = Assert.Single(counters);
        Assert.Equal(new InterfaceCounters("veth9", 0, 0, 0, 0), veth);
    }
}
