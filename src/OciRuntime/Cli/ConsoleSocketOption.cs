using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Cli;

/// <summary>`--console-socket PATH` as runc checks and uses it (create, run, exec).</summary>
internal static class ConsoleSocketOption
{
    /// <summary>
    /// runc's checkTerminal, with its messages: a detached terminal must go to a console
    /// socket, and a console socket is only for a detached terminal. In the foreground runc
    /// would relay the terminal itself, which this runtime does not do.
    /// </summary>
    public static void Check(bool terminal, bool detach, string? consoleSocket)
    {
        if (detach && terminal && consoleSocket is null)
        {
            throw new CliException("cannot allocate tty if runc will detach without setting console socket");
        }
        if ((!detach || !terminal) && consoleSocket is not null)
        {
            throw new CliException("cannot use console socket if runc will not detach or allocate tty");
        }
        if (!detach && terminal)
        {
            throw new CliException("a terminal in the foreground is not supported; use --detach with --console-socket");
        }
    }

    /// <summary>The connected socket to hand to the init, or -1 without one.</summary>
    public static int Connect(string? consoleSocket) =>
        consoleSocket is null ? -1 : ConsoleSocket.Connect(Path.GetFullPath(consoleSocket));
}
