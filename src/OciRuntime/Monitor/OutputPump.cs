using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// Copies one of the container's output streams (a pipe, or the pty master) into the CRI log and
/// to attach clients, one read per readiness, until the container's end is closed.
/// </summary>
internal sealed unsafe class OutputPump
{
    private readonly EventLoop _loop;
    private readonly CriLogStream? _log;
    private readonly AttachServer _attach;
    private readonly AttachFrameKind _kind;
    private readonly byte[] _buffer;
    private int _fd;

    /// <param name="buffer">Scratch space, shared by the pumps of the one thread.</param>
    public OutputPump(EventLoop loop, int fd, CriLogStream? log, AttachServer attach, AttachFrameKind kind, byte[] buffer)
    {
        _loop = loop;
        _fd = fd;
        _log = log;
        _attach = attach;
        _kind = kind;
        _buffer = buffer;
        LibC.fcntl(fd, LibC.F_SETFL, LibC.fcntl(fd, LibC.F_GETFL, 0) | LibC.O_NONBLOCK);
        loop.Add(fd, LibC.EPOLLIN, _ => Copy());
    }

    /// <summary>The container may still write to it.</summary>
    public bool Open => _fd >= 0;

    private void Copy()
    {
        nint read;
        fixed (byte* pointer = _buffer)
        {
            read = LibC.read(_fd, pointer, (nuint)_buffer.Length);
        }
        if (read > 0)
        {
            _log?.Append(_buffer.AsSpan(0, (int)read));
            _attach.Broadcast(_kind, _buffer.AsSpan(0, (int)read));
            return;
        }
        // 0 at the end of a pipe; EIO from a terminal's master once the container has closed it.
        if (read < 0 && Marshal.GetLastPInvokeError() is Errno.EAGAIN or Errno.EINTR)
        {
            return;
        }
        Close();
    }

    /// <summary>Writes an unterminated last line and lets go of the stream.</summary>
    public void Close()
    {
        if (_fd < 0)
        {
            return;
        }
        _log?.Flush();
        _loop.Remove(_fd);
        LibC.close(_fd);
        _fd = -1;
    }
}
