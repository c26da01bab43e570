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
    private readonly int _fd;

    // Reference-counted, so a read or write racing with Dispose never reaches a descriptor
    // number that was closed and reused meanwhile.
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;

    public PollableFdStream(int fd, FileAccess access)
    {
        _fd = fd;
        _handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
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
    public int Fd => _handle.IsClosed ? -1 : _fd;

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
            await WaitAsync(LibC.EPOLLIN, cancellationToken).ConfigureAwait(false);
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
            await WaitAsync(LibC.EPOLLOUT, cancellationToken).ConfigureAwait(false);
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
    private int TryRead(Span<byte> buffer)
    {
        var added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            return TryReadReferenced(buffer);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    private unsafe int TryReadReferenced(Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var read = LibC.read(_fd, pointer, (nuint)buffer.Length);
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
    private int TryWrite(ReadOnlySpan<byte> buffer)
    {
        var added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            return TryWriteReferenced(buffer);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    private unsafe int TryWriteReferenced(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            while (true)
            {
                var written = LibC.write(_fd, pointer, (nuint)buffer.Length);
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

    private Task WaitAsync(uint events, CancellationToken cancellationToken)
    {
        var ready = FdPoller.Shared.WaitAsync(LiveFd(), events, cancellationToken);
        if (_handle.IsClosed)
        {
            // Disposed while we registered: Dispose's Forget may have come first; never wait forever.
            FdPoller.Shared.Forget(_fd);
        }
        return ready;
    }

    private void WaitBlocking(short events)
    {
        var descriptor = new LibC.PollDescriptor { Fd = LiveFd(), Events = events };
        Errno.RetryOnInterrupt(() => LibC.poll(ref descriptor, 1, -1), "poll");
    }

    private int LiveFd() => !_handle.IsClosed ? _fd : throw new ObjectDisposedException(nameof(PollableFdStream));

    protected override void Dispose(bool disposing)
    {
        if (!_handle.IsClosed)
        {
            if (ByteOnClose is { } last)
            {
                try
                {
                    TryWrite([last]);
                }
                catch (Exception exception) when (exception is IOException or ObjectDisposedException)
                {
                    // The terminal is gone already: nothing to end.
                }
            }
            FdPoller.Shared.Forget(_fd);
            _handle.Dispose();
        }
        base.Dispose(disposing);
    }
}
