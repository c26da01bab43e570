using System.Runtime.InteropServices;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Linux;

/// <summary>
/// A stream over one end of a pipe or a pty master, owned by the stream. Non-blocking, so
/// async reads and writes wait on <see cref="FdPoller"/> and hold no thread. A pty master
/// reports EIO once every slave descriptor is closed: that is its end of file.
/// </summary>
internal sealed class PollableFdStream : Stream
{
    private readonly bool _canRead;
    private readonly bool _canWrite;
    private int _fd;

    public PollableFdStream(int fd, FileAccess access)
    {
        _fd = fd;
        _canRead = access.HasFlag(FileAccess.Read);
        _canWrite = access.HasFlag(FileAccess.Write);
        var flags = Errno.Check(LibC.fcntl(fd, LibC.F_GETFL, 0), "fcntl F_GETFL", $"fd {fd}");
        Errno.Check(LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK), "fcntl F_SETFL", $"fd {fd}");
    }

    /// <summary>
    /// Written (if it fits at once) just before the descriptor is closed: a terminal's input
    /// has no end of file of its own, so closing it sends EOT (0x04) instead, as ^D would.
    /// </summary>
    public byte? ByteOnClose { get; init; }

    /// <summary>The descriptor, for ioctls on a terminal; -1 once disposed.</summary>
    public int Fd => _fd;

    public override bool CanRead => _canRead;
    public override bool CanWrite => _canWrite;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var read = TryRead(buffer.Span);
            if (read >= 0)
            {
                return read;
            }
            await FdPoller.Shared.WaitAsync(LiveFd(), LibC.EPOLLIN, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            var read = TryRead(buffer);
            if (read >= 0)
            {
                return read;
            }
            WaitBlocking(LibC.POLLIN);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            var written = TryWrite(buffer.Span);
            if (written > 0)
            {
                buffer = buffer[written..];
                continue;
            }
            await FdPoller.Shared.WaitAsync(LiveFd(), LibC.EPOLLOUT, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var written = TryWrite(buffer);
            if (written > 0)
            {
                buffer = buffer[written..];
                continue;
            }
            WaitBlocking(LibC.POLLOUT);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Bytes read, 0 at end of file, -1 when nothing is available yet.</summary>
    private unsafe int TryRead(Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var read = LibC.read(LiveFd(), pointer, (nuint)buffer.Length);
                if (read >= 0)
                {
                    return (int)read;
                }
                var errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case Errno.EINTR:
                        continue;
                    case Errno.EAGAIN:
                        return -1;
                    case Errno.EIO:
                        return 0; // a pty master whose slave side is gone
                    default:
                        throw new IOException($"read: {Errno.Describe(errno)}", errno);
                }
            }
        }
    }

    /// <summary>Bytes written, 0 when the pipe or terminal is full.</summary>
    private unsafe int TryWrite(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var written = LibC.write(LiveFd(), pointer, (nuint)buffer.Length);
                if (written >= 0)
                {
                    return (int)written;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }
                if (errno == Errno.EAGAIN)
                {
                    return 0;
                }
                // EPIPE: the process closed its end (the runtime ignores SIGPIPE, as .NET does).
                throw new IOException($"write: {Errno.Describe(errno)}", errno);
            }
        }
    }

    private void WaitBlocking(short events)
    {
        var descriptor = new LibC.PollDescriptor { Fd = LiveFd(), Events = events };
        Errno.RetryOnInterrupt(() => LibC.poll(ref descriptor, 1, -1), "poll");
    }

    private int LiveFd() => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(PollableFdStream));

    protected override void Dispose(bool disposing)
    {
        if (ByteOnClose is { } last && _fd >= 0)
        {
            try
            {
                TryWrite([last]);
            }
            catch (IOException)
            {
                // The terminal is gone already: nothing to end.
            }
        }
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            FdPoller.Shared.Forget(fd);
            LibC.close(fd);
        }
        base.Dispose(disposing);
    }
}
