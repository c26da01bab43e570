using System.Runtime.InteropServices;

namespace CriOci.OciRuntime.Linux.Interop;

/// <summary>Pseudo-terminal ioctls: asm-generic/ioctls.h, termios.h.</summary>
internal static partial class LibC
{
    public const ulong TIOCSCTTY = 0x540E;
    public const ulong TIOCGWINSZ = 0x5413;
    public const ulong TIOCSWINSZ = 0x5414;
    public const ulong TIOCGPTN = 0x80045430;
    public const ulong TIOCSPTLCK = 0x40045431;
    public const ulong TIOCGPTPEER = 0x5441;

    /// <summary>struct winsize.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct WindowSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort XPixels;
        public ushort YPixels;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl_window_size(int fd, ulong request, ref WindowSize size);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl_int_pointer(int fd, ulong request, ref int value);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl_value(int fd, ulong request, nint value);

    public const int TCSANOW = 0;

    /// <summary>Room for struct termios (60 bytes with glibc on Linux), handled as opaque bytes.</summary>
    public const int TermiosSize = 128;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int isatty(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int tcgetattr(int fd, byte* termios);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int tcsetattr(int fd, int when, byte* termios);

    [LibraryImport("libc")]
    public static unsafe partial void cfmakeraw(byte* termios);
}
