using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using Microsoft.Win32.SafeHandles;

namespace CriOci.PodSandbox.Network.Netlink;

/// <summary>
/// An AF_NETLINK/NETLINK_ROUTE socket in the network namespace of the thread that opened it (and
/// it stays there, whichever thread uses it later). Requests are sent one at a time and answered
/// synchronously: the kernel handles rtnetlink requests in the sending thread, so there is
/// nothing to wait for but the reply already queued.
/// </summary>
internal sealed partial class NetlinkSocket : IDisposable
{
    private const int SOCK_RAW = 3;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly SafeFileHandle _handle;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private uint _sequence;

    private NetlinkSocket(SafeFileHandle handle) => _handle = handle;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int setsockopt(int fd, int level, int name, int* value, uint length);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint recv(int fd, byte* buffer, nuint length, int flags);

    public static unsafe NetlinkSocket Open()
    {
        var fd = Errno.Check(socket(Rtnetlink.AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, Rtnetlink.NETLINK_ROUTE), "socket", "AF_NETLINK");
        var netlink = new NetlinkSocket(new SafeFileHandle(fd, ownsHandle: true));
        var on = 1;
        // Best effort: the kernel's own words in errors, and errors that echo only the request's header.
        _ = setsockopt(fd, Rtnetlink.SOL_NETLINK, Rtnetlink.NETLINK_EXT_ACK, &on, sizeof(int));
        _ = setsockopt(fd, Rtnetlink.SOL_NETLINK, Rtnetlink.NETLINK_CAP_ACK, &on, sizeof(int));
        return netlink;
    }

    /// <summary>
    /// Sends a request with NLM_F_ACK and returns the messages that answered it before the ACK
    /// (a GET's object); throws <see cref="NetlinkException"/> naming <paramref name="operation"/> when the kernel refused.
    /// </summary>
    public List<NetlinkReply> Request(NetlinkMessageBuilder request, string operation)
    {
        var sequence = Send(request);
        var answers = new List<NetlinkReply>();
        while (true)
        {
            foreach (var reply in Receive())
            {
                if (reply.Sequence != sequence)
                {
                    continue;
                }
                if (reply.Type == Rtnetlink.NLMSG_ERROR)
                {
                    var (errno, message) = NetlinkMessageReader.Error(reply);
                    return errno == 0 ? answers : throw new NetlinkException(errno, operation, message);
                }
                answers.Add(reply);
            }
        }
    }

    /// <summary>Sends an NLM_F_DUMP request and returns every object until NLMSG_DONE.</summary>
    public List<NetlinkReply> Dump(NetlinkMessageBuilder request, string operation)
    {
        var sequence = Send(request);
        var answers = new List<NetlinkReply>();
        while (true)
        {
            foreach (var reply in Receive())
            {
                if (reply.Sequence != sequence)
                {
                    continue;
                }
                switch (reply.Type)
                {
                    case Rtnetlink.NLMSG_DONE:
                        return answers;
                    case Rtnetlink.NLMSG_ERROR:
                        var (errno, message) = NetlinkMessageReader.Error(reply);
                        if (errno != 0)
                        {
                            throw new NetlinkException(errno, operation, message);
                        }
                        break;
                    default:
                        answers.Add(reply);
                        break;
                }
            }
        }
    }

    public void Dispose() => _handle.Dispose();

    private unsafe uint Send(NetlinkMessageBuilder request)
    {
        var sequence = ++_sequence;
        var bytes = request.Build(sequence);
        var fd = (int)_handle.DangerousGetHandle();
        fixed (byte* buffer = bytes)
        {
            while (true)
            {
                var sent = send(fd, buffer, (nuint)bytes.Length, 0);
                if (sent >= 0)
                {
                    return sequence;
                }
                if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw new SyscallException(Marshal.GetLastPInvokeError(), "send", "netlink");
                }
            }
        }
    }

    private unsafe List<NetlinkReply> Receive()
    {
        var fd = (int)_handle.DangerousGetHandle();
        fixed (byte* buffer = _receiveBuffer)
        {
            while (true)
            {
                var received = recv(fd, buffer, (nuint)_receiveBuffer.Length, 0);
                if (received >= 0)
                {
                    return NetlinkMessageReader.Messages(_receiveBuffer.AsSpan(0, (int)received));
                }
                if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                {
                    throw new SyscallException(Marshal.GetLastPInvokeError(), "recv", "netlink");
                }
            }
        }
    }
}
