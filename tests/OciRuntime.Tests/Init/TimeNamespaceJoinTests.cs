using CriOci.OciRuntime.Init;

namespace CriOci.OciRuntime.Tests.Init;

/// <summary>
/// The managed half of the time namespace join, reading what the C start-up code left in the
/// environment. These tests set the two variables in this process and clear them again.
/// </summary>
public sealed class TimeNamespaceJoinTests : IDisposable
{
    public TimeNamespaceJoinTests() => Dispose();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(TimeNamespaceJoin.FdVariable, null);
        Environment.SetEnvironmentVariable(TimeNamespaceJoin.ResultVariable, null);
    }

    [Fact]
    public void CheckJoined_NoJoinAsked_DoesNothing() => TimeNamespaceJoin.CheckJoined();

    [Fact]
    public void CheckJoined_StartupCodeJoined_DoesNothing()
    {
        Environment.SetEnvironmentVariable(TimeNamespaceJoin.ResultVariable, "0");

        TimeNamespaceJoin.CheckJoined();
    }

    [Fact]
    public void CheckJoined_StartupCodeFailed_ReportsTheErrno()
    {
        Environment.SetEnvironmentVariable(TimeNamespaceJoin.ResultVariable, "87");

        var error = Assert.Throws<InitException>(TimeNamespaceJoin.CheckJoined);

        Assert.Contains("setns into the container's time namespace", error.Message, StringComparison.Ordinal);
        Assert.Contains("errno 87", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckJoined_AskedButNoStartupCodeRan_SaysTheBinaryLacksIt()
    {
        Environment.SetEnvironmentVariable(TimeNamespaceJoin.FdVariable, "6");

        var error = Assert.Throws<InitException>(TimeNamespaceJoin.CheckJoined);

        Assert.Contains("lacks the start-up code", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_NamesTheChildsDescriptor() =>
        Assert.Equal("CRIOCI_TIME_NS_FD=6", TimeNamespaceJoin.Request(6));
}
