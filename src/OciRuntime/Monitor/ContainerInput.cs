using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The container's input as attach clients reach it: the write end of its stdin pipe, or its
/// terminal (a descriptor of the pty master of its own). Writes block while the container does
/// not read, as a shell's would; they never block its output, which other threads copy.
/// </summary>
internal sealed class ContainerInput(int fd, bool terminal, bool stdin) : IDisposable
{
    /// <summary>End-of-transmission: a terminal's end of input in canonical mode (what ^D types).</summary>
    private const byte EndOfTransmission = 0x04;

    private readonly object _lock = new();
    private int _fd = fd;
    private bool _closed;

    /// <summary>The container runs on a terminal.</summary>
    public bool Terminal => terminal;

    /// <summary>The container has a stdin that clients may write to.</summary>
    public bool Stdin => stdin;

    /// <summary>Passes bytes on; dropped when the container has no stdin or it was closed.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            if (!stdin || _closed || _fd < 0)
            {
                return;
            }
            WriteAll(data);
        }
    }

    /// <summary>Ends the container's input: a pipe is closed, a terminal gets EOT. Once only.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (!stdin || _closed || _fd < 0)
            {
                return;
            }
            _closed = true;
            if (terminal)
            {
                WriteAll([EndOfTransmission]);
            }
            else
            {
                LibC.close(_fd);
                _fd = -1;
            }
        }
    }

    public void Resize(ushort width, ushort height)
    {
        lock (_lock)
        {
            if (terminal && _fd >= 0)
            {
                Pty.SetWindowSize(_fd, width, height);
            }
        }
    }

    private unsafe void WriteAll(ReadOnlySpan<byte> data)
    {
        fixed (byte* pointer = data)
        {
            var offset = 0;
            while (offset < data.Length)
            {
                var written = LibC.write(_fd, pointer + offset, (nuint)(data.Length - offset));
                if (written < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.EINTR)
                    {
                        continue;
                    }
                    return; // The container closed its input (EPIPE) or exited: nobody reads any more.
                }
                offset += (int)written;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_fd >= 0)
            {
                LibC.close(_fd);
                _fd = -1;
            }
        }
    }
}
