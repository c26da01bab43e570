using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Tests.Monitor;

/// <summary>What crioci-runtime monitor hands to crioci-monitor on its command line survives the trip.</summary>
public sealed class MonitorSessionTests
{
    [Fact]
    public void Parse_ToArgumentsOfAFullSession_GivesTheSameSession()
    {
        var session = new MonitorSession("c1", "/run/crioci/runtime/c1", 4242, 3, 5, 6, 7, Terminal: false, Stdin: true, StdinOnce: true,
            AttachFd: 8, LogFd: 9, LogPath: "/var/log/pods/p/c/0.log",
            new ContainerCgroupFiles("/sys/fs/cgroup/p/c/memory.events", "/sys/fs/cgroup/p/c/cgroup.procs"));

        var parsed = MonitorSession.Parse(session.ToArguments());

        Assert.Equal(session, parsed);
    }

    [Fact]
    public void Parse_ToArgumentsOfATerminalWithoutLogOrCgroup_GivesTheSameSession()
    {
        var session = new MonitorSession("c2", "/run/x/c2", 17, 3, 5, -1, -1, Terminal: true, Stdin: false, StdinOnce: false,
            AttachFd: 8, LogFd: -1, LogPath: null, new ContainerCgroupFiles(null, null));

        var parsed = MonitorSession.Parse(session.ToArguments());

        Assert.Equal(session, parsed);
    }

    [Theory]
    [InlineData("--id", "c1")]
    [InlineData("--init-pid", "12x", "--id", "c1")]
    [InlineData("stray")]
    public void Parse_IncompleteOrMalformed_ThrowsArgumentException(params string[] args)
    {
        Assert.Throws<ArgumentException>(() => MonitorSession.Parse(args));
    }
}
