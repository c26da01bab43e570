using System.Text;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>Brings up "lo" in the calling thread's network namespace (a new one starts with it down).</summary>
public static class Loopback
{
    public static unsafe void BringUp()
    {
        var socket = Errno.Check(LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), "socket", "AF_INET");
        try
        {
            var request = new LibC.InterfaceRequest();
            var name = Encoding.ASCII.GetBytes("lo");
            for (var i = 0; i < name.Length; i++)
            {
                request.Name[i] = name[i];
            }
            Errno.Check(LibC.ioctl(socket, LibC.SIOCGIFFLAGS, ref request), "ioctl SIOCGIFFLAGS", "lo");
            request.Flags |= LibC.IFF_UP;
            Errno.Check(LibC.ioctl(socket, LibC.SIOCSIFFLAGS, ref request), "ioctl SIOCSIFFLAGS", "lo");
        }
        finally
        {
            LibC.close(socket);
        }
    }
}
