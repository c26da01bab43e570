using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The container's input as attach clients reach it: the write end of its stdin pipe, or its
/// terminal (a descriptor of the pty master of its own). Never blocks the monitor's thread:
/// what the container does not take yet is held (one client frame at most, since clients are
/// not read while <see cref="Busy"/>) and written when the descriptor becomes writable.
/// </summary>
internal sealed unsafe class ContainerInput(int fd, bool terminal, bool stdin) : IDisposable
{
    /// <summary>End-of-transmission: a terminal's end of input in canonical mode (what ^D types).</summary>
    private const byte EndOfTransmission = 0x04;

    private int _fd = fd;
    private EventLoop? _loop;
    private byte[]? _pending;
    private int _pendingOffset;
    private bool _registered;
    private bool _closing;
    private bool _closed;

    /// <summary>The container runs on a terminal.</summary>
    public bool Terminal => terminal;

    /// <summary>The container has a stdin that clients may write to.</summary>
    public bool Stdin => stdin;

    /// <summary>Bytes are waiting for the container to read; take no more input until <see cref="Drained"/>.</summary>
    public bool Busy => _pending is not null;

    /// <summary>Runs once held input has all been written (or dropped because nobody reads any more).</summary>
    public Action? Drained { get; set; }

    /// <summary>Makes the descriptor non-blocking and lets <paramref name="loop"/> report when it takes more.</summary>
    public void Attach(EventLoop loop)
    {
        _loop = loop;
        if (_fd >= 0 && stdin)
        {
            LibC.fcntl(_fd, LibC.F_SETFL, LibC.fcntl(_fd, LibC.F_GETFL, 0) | LibC.O_NONBLOCK);
        }
    }

    /// <summary>Passes bytes on; dropped when the container has no stdin or it was closed.</summary>
    public void Write(byte[] data)
    {
        if (!stdin || _closing || _closed || _fd < 0 || data.Length == 0)
        {
            return;
        }
        _pending = data;
        _pendingOffset = 0;
        Flush();
    }

    /// <summary>Ends the container's input: a pipe is closed, a terminal gets EOT. Once only, after held input.</summary>
    public void Close()
    {
        if (!stdin || _closing || _closed || _fd < 0)
        {
            return;
        }
        _closing = true;
        if (!Busy)
        {
            Finish();
        }
    }

    public void Resize(ushort width, ushort height)
    {
        if (terminal && _fd >= 0)
        {
            Pty.SetWindowSize(_fd, width, height);
        }
    }

    private void Flush()
    {
        var waited = _registered;
        while (_pending is { } pending && _pendingOffset < pending.Length)
        {
            nint written;
            fixed (byte* pointer = pending)
            {
                written = LibC.write(_fd, pointer + _pendingOffset, (nuint)(pending.Length - _pendingOffset));
            }
            if (written >= 0)
            {
                _pendingOffset += (int)written;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR)
            {
                continue;
            }
            if (errno == Errno.EAGAIN && _loop is not null)
            {
                if (!_registered)
                {
                    _loop.Add(_fd, LibC.EPOLLOUT, _ => Flush());
                    _registered = true;
                }
                return;
            }
            break; // The container closed its input (EPIPE) or exited: nobody reads any more.
        }
        _pending = null;
        if (_registered)
        {
            _loop!.Remove(_fd);
            _registered = false;
        }
        if (_closing)
        {
            Finish();
        }
        if (waited)
        {
            Drained?.Invoke();
        }
    }

    private void Finish()
    {
        _closed = true;
        if (terminal)
        {
            // One byte into a terminal that just drained: it fits, or the container reads no more.
            var eot = EndOfTransmission;
            LibC.write(_fd, &eot, 1);
        }
        else
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            if (_registered)
            {
                _loop!.Remove(_fd);
                _registered = false;
            }
            LibC.close(_fd);
            _fd = -1;
        }
    }
}
