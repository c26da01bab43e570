using System.Runtime.InteropServices;
using System.Text;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// runc's console socket protocol: the container's init (or exec's) sends the pty master over
/// a unix socket as one message whose SCM_RIGHTS carries the descriptor and whose payload is
/// the descriptor's name, as runc's utils.SendFile does ("/dev/ptmx").
/// </summary>
public static unsafe class ConsoleSocket
{
    /// <summary>The payload runc sends with a pty master (the name of the file the master was opened from).</summary>
    public const string MasterName = "/dev/ptmx";

    /// <summary>runc's MaxNameLen: receivers read names up to this length.</summary>
    private const int MaxNameLength = 4096;

    private static readonly int ControlSpace = Align(sizeof(LibC.ControlMessageHeader)) + Align(sizeof(int));

    /// <summary>A connected pair of stream sockets (both close-on-exec): one end for a child, one to receive on.</summary>
    public static (int Local, int Remote) CreatePair()
    {
        var fds = stackalloc int[2];
        Errno.Check(LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds), "socketpair");
        return (fds[0], fds[1]);
    }

    /// <summary>Connects to the unix socket at <paramref name="path"/> (runc's --console-socket).</summary>
    public static int Connect(string path)
    {
        using var shortPath = UnixSocketPath.For(path);
        var bytes = Encoding.UTF8.GetBytes(shortPath.Address);
        // struct sockaddr_un: a 2-byte family, then a 108-byte path.
        if (bytes.Length >= 108)
        {
            throw new SyscallException(36 /* ENAMETOOLONG */, "connect", path);
        }
        var fd = Errno.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0), "socket", path);
        var address = stackalloc byte[110];
        new Span<byte>(address, 110).Clear();
        *(ushort*)address = LibC.AF_UNIX;
        bytes.CopyTo(new Span<byte>(address + 2, 108));
        if (LibC.connect(fd, address, (uint)(2 + bytes.Length + 1)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.close(fd);
            throw new SyscallException(errno, "connect", path);
        }
        return fd;
    }

    /// <summary>Sends <paramref name="fd"/> with <paramref name="name"/> as the payload.</summary>
    public static void Send(int socket, string name, int fd)
    {
        var payload = Encoding.UTF8.GetBytes(name);
        var control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        var header = (LibC.ControlMessageHeader*)control;
        header->Length = (nuint)(Align(sizeof(LibC.ControlMessageHeader)) + sizeof(int));
        header->Level = LibC.SOL_SOCKET;
        header->Type = LibC.SCM_RIGHTS;
        *(int*)(control + Align(sizeof(LibC.ControlMessageHeader))) = fd;
        fixed (byte* data = payload)
        {
            var vector = new LibC.IoVector { Base = data, Length = (nuint)payload.Length };
            var message = new LibC.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)ControlSpace };
            while (LibC.sendmsg(socket, &message, LibC.MSG_NOSIGNAL) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw new SyscallException(errno, "sendmsg", "console socket");
                }
            }
        }
    }

    /// <summary>
    /// Receives one descriptor (close-on-exec) and its name; blocks until it comes. Null when
    /// the peer closed without sending one.
    /// </summary>
    public static (int Fd, string Name)? Receive(int socket)
    {
        var buffer = new byte[MaxNameLength];
        var control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        fixed (byte* data = buffer)
        {
            var vector = new LibC.IoVector { Base = data, Length = (nuint)buffer.Length };
            var message = new LibC.MessageHeader { Vectors = &vector, VectorCount = 1, Control = control, ControlLength = (nuint)ControlSpace };
            nint read;
            while ((read = LibC.recvmsg(socket, &message, LibC.MSG_CMSG_CLOEXEC)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw new SyscallException(errno, "recvmsg", "console socket");
                }
            }
            var header = (LibC.ControlMessageHeader*)control;
            if (message.ControlLength < (nuint)sizeof(LibC.ControlMessageHeader)
                || header->Level != LibC.SOL_SOCKET || header->Type != LibC.SCM_RIGHTS
                || header->Length < (nuint)(Align(sizeof(LibC.ControlMessageHeader)) + sizeof(int)))
            {
                return null;
            }
            var fd = *(int*)(control + Align(sizeof(LibC.ControlMessageHeader)));
            return (fd, Encoding.UTF8.GetString(buffer, 0, (int)read));
        }
    }

    private static int Align(int length) => (length + sizeof(nint) - 1) & ~(sizeof(nint) - 1);
}
