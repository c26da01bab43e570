using System.Globalization;
using System.Text;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// A unix socket address for a path of any length. struct sockaddr_un holds 107 bytes of path;
/// a longer one (a deep state root plus a 64-character container ID) is reached through the
/// directory's descriptor instead: /proc/self/fd/N/NAME names the same file.
/// </summary>
public sealed class UnixSocketPath : IDisposable
{
    private const int MaxAddressBytes = 107;
    private int _directoryFd;

    private UnixSocketPath(string address, int directoryFd)
    {
        Address = address;
        _directoryFd = directoryFd;
    }

    /// <summary>What to bind or connect to while this object lives.</summary>
    public string Address { get; }

    public static UnixSocketPath For(string path)
    {
        if (Encoding.UTF8.GetByteCount(path) <= MaxAddressBytes)
        {
            return new UnixSocketPath(path, -1);
        }
        var directory = Path.GetDirectoryName(path) ?? throw new ArgumentException($"{path} has no directory", nameof(path));
        var fd = Errno.Check(LibC.open(directory, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0), "open", directory);
        return new UnixSocketPath($"/proc/self/fd/{fd.ToString(CultureInfo.InvariantCulture)}/{Path.GetFileName(path)}", fd);
    }

    public void Dispose()
    {
        if (_directoryFd >= 0)
        {
            LibC.close(_directoryFd);
            _directoryFd = -1;
        }
    }
}
