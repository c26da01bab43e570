
namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>
/// An rtnetlink request the kernel refused, or a reply we could not read. <see cref="Errno"/> lets
/// callers branch (EEXIST on create, ENODEV on delete); the message names the operation and the
/// object, and adds the kernel's extended-ack text when it gave one.
/// </summary>
internal sealed class NetlinkException : Exception
{
    public NetlinkException(string message) : base(message)
    {
    }

    public NetlinkException(int errno, string operation, string? kernelMessage)
        : base(kernelMessage is { Length: > 0 }
            ? $"{operation}: {CriOci.OciRuntime.Linux.Errno.Describe(errno)}: {kernelMessage}"
            : $"{operation}: {CriOci.OciRuntime.Linux.Errno.Describe(errno)}")
    {
        Errno = errno;
    }

    /// <summary>The positive errno from the kernel; 0 when the reply itself was unreadable.</summary>
    public int Errno { get; }
}
