using CriOci.OciRuntime.Linux;

namespace CriOci.OciRuntime.Cli;

/// <summary>`--console-socket PATH` as runc checks and uses it (create, run, exec).</summary>
internal static class ConsoleSocketOption
{
    /// <summary>
    /// runc's checkTerminal, with its messages: a detached terminal must go to a console
    /// socket, and a console socket is only for a detached terminal (in the foreground the
    /// runtime relays the terminal itself, see <see cref="ForegroundTerminal"/>).
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
    }

    /// <summary>The connected socket to hand to the init, or -1 without one.</summary>
    public static int Connect(string? consoleSocket) =>
        consoleSocket is null ? -1 : ConsoleSocket.Connect(Path.GetFullPath(consoleSocket));
}
