using System.Buffers.Binary;
using System.Net.Sockets;

namespace CriOci.OciRuntime.Monitor;

/// <summary>What a frame on the attach socket carries.</summary>
public enum AttachFrameKind : byte
{
    /// <summary>Monitor to client: the container's standard output (with a terminal, everything it printed).</summary>
    Stdout = 1,

    /// <summary>Monitor to client: the container's standard error (never with a terminal).</summary>
    Stderr = 2,

    /// <summary>Monitor to client: the container exited; payload is its exit code (int32). The monitor then closes.</summary>
    Exit = 3,

    /// <summary>
    /// Monitor to client, first on every connection: the client is registered and sees all
    /// output from here on. Payload one byte: bit 0 the container has a terminal, bit 1 it has stdin.
    /// </summary>
    Attached = 4,

    /// <summary>Client to monitor: bytes for the container's stdin (dropped unless the container has one).</summary>
    Stdin = 16,

    /// <summary>Client to monitor: end of the container's input (a pipe is closed; a terminal gets EOT).</summary>
    StdinClose = 17,

    /// <summary>Client to monitor: new terminal size, payload width and height (uint16 each); ignored without a terminal.</summary>
    Resize = 18,
}

/// <summary>
/// The protocol between the daemon and a container's monitor on <c>attach.sock</c> in the
/// container's state directory (see <see cref="State.StateDirectory.AttachSocketPath"/>). A
/// stream socket carrying frames both ways: kind (1 byte, <see cref="AttachFrameKind"/>),
/// payload length (4 bytes, big-endian, at most <see cref="MaxPayload"/>), payload.
///
/// The monitor copies every output frame to every connected client and to the CRI log; a
/// client that cannot keep up is disconnected, never waited for. Any number of clients may
/// attach; with stdin-once, the container's input is closed when the first client that sent
/// input goes away.
/// </summary>
public static class AttachProtocol
{
    public const int HeaderLength = 5;
    public const int MaxPayload = 1024 * 1024;

    public static byte[] Frame(AttachFrameKind kind, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[HeaderLength + payload.Length];
        frame[0] = (byte)kind;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame.AsSpan(HeaderLength));
        return frame;
    }

    public static byte[] AttachedFrame(bool terminal, bool stdin) =>
        Frame(AttachFrameKind.Attached, [(byte)((terminal ? 1 : 0) | (stdin ? 2 : 0))]);

    public static byte[] ExitFrame(int exitCode)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, exitCode);
        return Frame(AttachFrameKind.Exit, payload);
    }

    public static byte[] ResizeFrame(ushort width, ushort height)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(payload, width);
        BinaryPrimitives.WriteUInt16BigEndian(payload[2..], height);
        return Frame(AttachFrameKind.Resize, payload);
    }

    public static (ushort Width, ushort Height) ParseResize(ReadOnlySpan<byte> payload) =>
        payload.Length == 4
            ? (BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload[2..]))
            : throw new InvalidDataException($"resize payload of {payload.Length} bytes, expected 4");

    /// <summary>Reads one frame (blocking); null at end of stream.</summary>
    public static (AttachFrameKind Kind, byte[] Payload)? Read(Socket socket)
    {
        var header = new byte[HeaderLength];
        if (!ReadExactly(socket, header))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length is < 0 or > MaxPayload)
        {
            throw new InvalidDataException($"attach frame of {length} bytes");
        }
        var payload = new byte[length];
        return ReadExactly(socket, payload) ? ((AttachFrameKind)header[0], payload) : null;
    }

    /// <summary>Reads one frame; null at end of stream.</summary>
    public static async Task<(AttachFrameKind Kind, byte[] Payload)?> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var header = new byte[HeaderLength];
        if (!await ReadExactlyAsync(socket, header, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length is < 0 or > MaxPayload)
        {
            throw new InvalidDataException($"attach frame of {length} bytes");
        }
        var payload = new byte[length];
        return await ReadExactlyAsync(socket, payload, cancellationToken).ConfigureAwait(false) ? ((AttachFrameKind)header[0], payload) : null;
    }

    private static bool ReadExactly(Socket socket, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = socket.Receive(buffer);
            if (read == 0)
            {
                return false;
            }
            buffer = buffer[read..];
        }
        return true;
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }
            buffer = buffer[read..];
        }
        return true;
    }
}
