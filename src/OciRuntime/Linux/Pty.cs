using System.Globalization;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>A new pseudo-terminal pair from the devpts instance of the current mount namespace.</summary>
/// <param name="SlavePath">Where the slave appears in that namespace (/dev/pts/N).</param>
public sealed record PtyPair(int Master, int Slave, string SlavePath);

/// <summary>Pseudo-terminals (pty(7)): opening a pair, window size, controlling terminal.</summary>
public static class Pty
{
    /// <summary>
    /// Opens /dev/ptmx and its slave. The slave is opened through the master (TIOCGPTPEER),
    /// not by path, so a process that mounted over /dev/pts cannot hand us another file.
    /// Both descriptors are close-on-exec.
    /// </summary>
    public static PtyPair Open()
    {
        var master = Errno.Check(LibC.open("/dev/ptmx", LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_CLOEXEC, 0), "open", "/dev/ptmx");
        try
        {
            var unlock = 0;
            Errno.Check(LibC.ioctl_int_pointer(master, LibC.TIOCSPTLCK, ref unlock), "ioctl TIOCSPTLCK", "/dev/ptmx");
            var number = 0;
            Errno.Check(LibC.ioctl_int_pointer(master, LibC.TIOCGPTN, ref number), "ioctl TIOCGPTN", "/dev/ptmx");
            var slave = Errno.Check(LibC.ioctl_value(master, LibC.TIOCGPTPEER, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_CLOEXEC), "ioctl TIOCGPTPEER", "/dev/ptmx");
            return new PtyPair(master, slave, "/dev/pts/" + number.ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            LibC.close(master);
            throw;
        }
    }

    /// <summary>Sets the terminal's size in character cells (TIOCSWINSZ; the kernel signals the foreground group with SIGWINCH).</summary>
    public static void SetWindowSize(int fd, ushort width, ushort height)
    {
        var size = new LibC.WindowSize { Columns = width, Rows = height };
        Errno.Check(LibC.ioctl_window_size(fd, LibC.TIOCSWINSZ, ref size), "ioctl TIOCSWINSZ");
    }

    /// <summary>The terminal's size as (width, height).</summary>
    public static (ushort Width, ushort Height) GetWindowSize(int fd)
    {
        var size = default(LibC.WindowSize);
        Errno.Check(LibC.ioctl_window_size(fd, LibC.TIOCGWINSZ, ref size), "ioctl TIOCGWINSZ");
        return (size.Columns, size.Rows);
    }

    /// <summary>
    /// Starts a new session whose controlling terminal is <paramref name="slave"/>, and makes
    /// it the standard input, output and error.
    /// </summary>
    public static void BecomeSessionOn(int slave)
    {
        Errno.Check(LibC.setsid(), "setsid");
        Errno.Check(LibC.ioctl_value(slave, LibC.TIOCSCTTY, 0), "ioctl TIOCSCTTY");
        for (var fd = 0; fd <= 2; fd++)
        {
            Errno.Check(LibC.dup3(slave, fd, 0), "dup3", $"terminal onto fd {fd}");
        }
    }
}
