using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CriOci.Streaming.Tests.Support;

/// <summary>A real pseudo-terminal pair from posix_openpt(3), for tty sessions of the test runtime.</summary>
internal sealed partial class Pty : IDisposable
{
    private const int O_RDWR = 0x2;
    private const int O_NOCTTY = 0x100;
    private const ulong TIOCSWINSZ = 0x5414;

    private Pty(SafeFileHandle master, string slavePath)
    {
        Master = master;
        SlavePath = slavePath;
    }

    public SafeFileHandle Master { get; }

    public string SlavePath { get; }

    public static Pty Open()
    {
        var fd = posix_openpt(O_RDWR | O_NOCTTY);
        if (fd < 0)
        {
            throw new IOException($"posix_openpt failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var master = new SafeFileHandle(fd, ownsHandle: true);
        if (grantpt(fd) != 0 || unlockpt(fd) != 0)
        {
            master.Dispose();
            throw new IOException($"grantpt/unlockpt failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var name = new byte[128];
        if (ptsname_r(fd, name, (nuint)name.Length) != 0)
        {
            master.Dispose();
            throw new IOException("ptsname_r failed");
        }
        return new Pty(master, System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0)));
    }

    public unsafe void Resize(TerminalSize size)
    {
        var winsize = stackalloc ushort[4] { size.Height, size.Width, 0, 0 };
        if (ioctl((int)Master.DangerousGetHandle(), TIOCSWINSZ, winsize) != 0)
        {
            throw new IOException($"ioctl(TIOCSWINSZ) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose() => Master.Dispose();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_openpt(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int grantpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlockpt(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ptsname_r(int fd, byte[] buffer, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, ulong request, ushort* winsize);
}
