using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;
using CriOci.OciRuntime.Spec;

namespace CriOci.OciRuntime.Init;

/// <summary>
/// process.terminal inside the container (runc's setupConsole): a pty from the container's own
/// devpts, its slave the controlling terminal of a new session on fds 0-2, its master sent to
/// whoever listens on the console socket. The init and exec-init own nothing of it afterwards.
/// </summary>
internal static class TerminalSetup
{
    /// <param name="mountConsole">Bind the slave onto /dev/console too (the container's init only).</param>
    public static void Attach(int consoleSocket, ConsoleSizeSpec? size, bool mountConsole)
    {
        var pty = Pty.Open();
        try
        {
            if (size is { Width: > 0 } or { Height: > 0 })
            {
                Pty.SetWindowSize(pty.Master, (ushort)Math.Min(size.Width, ushort.MaxValue), (ushort)Math.Min(size.Height, ushort.MaxValue));
            }
            if (mountConsole)
            {
                MountConsole(pty.SlavePath);
            }
            Pty.BecomeSessionOn(pty.Slave);
            ConsoleSocket.Send(consoleSocket, ConsoleSocket.MasterName, pty.Master);
        }
        finally
        {
            LibC.close(pty.Master);
            LibC.close(pty.Slave);
            LibC.close(consoleSocket);
        }
    }

    /// <summary>/dev/console is the container's terminal, as the runtime-spec's default devices require with terminal.</summary>
    private static void MountConsole(string slavePath)
    {
        const string console = "/dev/console";
        if (!File.Exists(console))
        {
            var fd = Errno.Check(LibC.open(console, LibC.O_CREAT | LibC.O_WRONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0x1a4 /* 0644 */), "create", console);
            LibC.close(fd);
        }
        Errno.Check(LibC.mount(slavePath, console, null, LibC.MS_BIND, null), "bind", $"{slavePath} onto {console}");
    }
}
