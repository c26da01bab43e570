using System.Globalization;
using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// Joining a container's time namespace for exec. setns(CLONE_NEWTIME) refuses a process with
/// more than one thread (EUSERS), and a .NET process has several before Main, so the join is
/// done by C start-up code linked into crioci-runtime (src/OciRuntime/Linux/Native/time_namespace.c)
/// while the process is still single-threaded. The parent hands it the namespace as an inherited
/// descriptor named in <see cref="FdVariable"/>; the start-up code answers in <see cref="ResultVariable"/>.
/// </summary>
public static class TimeNamespaceJoin
{
    public const string FdVariable = "CRIOCI_TIME_NS_FD";
    public const string ResultVariable = "CRIOCI_TIME_NS_RESULT";

    /// <summary>The environment entry asking the child to join the namespace open at <paramref name="childFd"/>.</summary>
    public static string Request(int childFd) => $"{FdVariable}={childFd.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>In the child: nothing when no join was asked, else throws unless the start-up code joined.</summary>
    public static void CheckJoined()
    {
        var result = Environment.GetEnvironmentVariable(ResultVariable);
        if (result is null)
        {
            if (Environment.GetEnvironmentVariable(FdVariable) is not null)
            {
                throw new InitException("the container has its own time namespace, but this crioci-runtime lacks the start-up code that joins it "
                    + "(src/OciRuntime/Linux/Native/time_namespace.c; it is linked into the NativeAOT build that ./build.sh publishes)");
            }
            return;
        }
        if (result != "0")
        {
            var errno = int.TryParse(result, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : Errno.EINVAL;
            throw new InitException($"setns into the container's time namespace: {Errno.Describe(errno)}");
        }
    }
}
