using System.Runtime.InteropServices;
using System.Text;
using CriOci.OciRuntime.Linux;
using CriOci.OciRuntime.Linux.Interop;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The monitor's attach socket (<see cref="AttachProtocol"/>), driven by its <see cref="EventLoop"/>:
/// accepts any number of clients, copies the container's output to each without ever waiting
/// for one, and passes their input, end of input and terminal sizes to the container. Clients
/// are not read while the container has input left to take, as a blocking write would not.
/// </summary>
internal sealed unsafe class AttachServer
{
    /// <summary>Output frames a client may fall behind by before it is dropped (a few MB at most).</summary>
    private const int ClientQueueFrames = 256;

    private readonly EventLoop _loop;
    private readonly ContainerInput _input;
    private readonly bool _stdinOnce;
    private readonly List<Client> _clients = [];
    private int _listener;
    private Client? _firstWriter;
    private bool _completed;

    /// <param name="listener">A listening socket from <see cref="Listen"/>.</param>
    public AttachServer(EventLoop loop, int listener, ContainerInput input, bool stdinOnce)
    {
        _loop = loop;
        _listener = listener;
        _input = input;
        _stdinOnce = stdinOnce;
        input.Attach(loop);
        input.Drained = ResumeInput;
        loop.Add(listener, LibC.EPOLLIN, _ => Accept());
    }

    /// <summary>After <see cref="Complete"/>: every client has taken its last frame or was dropped.</summary>
    public bool Finished => _completed && _clients.Count == 0;

    /// <summary>
    /// Listens on <paramref name="path"/>, readable and writable by root only; non-blocking and
    /// close-on-exec (the monitor clears that flag on the one it hands to crioci-monitor).
    /// </summary>
    public static int Listen(string path)
    {
        var fd = Errno.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0), "socket", path);
        try
        {
            LibC.unlink(path);
            using var shortPath = UnixSocketPath.For(path);
            // The socket file is created with the umask's mode: never let it exist wider than
            // 0600. The umask belongs to the whole process (every thread shares it until one
            // unshares its file-system attributes), and a process-wide 077 made files and
            // directories that other threads created meanwhile unreadable to a container's user:
            // a throwaway thread narrows its own umask and binds.
            ThrowawayThread.Run(() =>
            {
                Errno.Check(LibC.unshare(LibC.CLONE_FS), "unshare", "CLONE_FS");
                LibC.umask(0x3f /* 077 */);
                Bind(fd, shortPath.Address, path);
            });
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Errno.Check(LibC.listen(fd, 16), "listen", path);
            return fd;
        }
        catch
        {
            LibC.close(fd);
            throw;
        }
    }

    private static void Bind(int fd, string socketPath, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(socketPath);
        // struct sockaddr_un: a 2-byte family, then a 108-byte path.
        if (bytes.Length >= 108)
        {
            throw new SyscallException(36 /* ENAMETOOLONG */, "bind", path);
        }
        var address = stackalloc byte[110];
        new Span<byte>(address, 110).Clear();
        *(ushort*)address = LibC.AF_UNIX;
        bytes.CopyTo(new Span<byte>(address + 2, 108));
        Errno.Check(LibC.bind(fd, address, (uint)(2 + bytes.Length + 1)), "bind", path);
    }

    /// <summary>Queues output for every client; one that is too far behind is disconnected.</summary>
    public void Broadcast(AttachFrameKind kind, ReadOnlySpan<byte> data)
    {
        if (_completed || _clients.Count == 0)
        {
            return;
        }
        var frame = AttachProtocol.Frame(kind, data);
        foreach (var client in _clients.ToArray())
        {
            if (client.Output.Count >= ClientQueueFrames)
            {
                Drop(client);
                continue;
            }
            client.Output.Enqueue(frame);
            Send(client);
        }
    }

    /// <summary>
    /// Tells every client the exit code and stops accepting; each is closed once it has taken
    /// its frames (see <see cref="Finished"/>) or by <see cref="CloseAll"/>.
    /// </summary>
    public void Complete(int exitCode)
    {
        _completed = true;
        CloseListener();
        var exit = AttachProtocol.ExitFrame(exitCode);
        foreach (var client in _clients.ToArray())
        {
            client.Output.Enqueue(exit);
            Send(client);
        }
    }

    /// <summary>Closes every client still connected, whatever it has not taken yet.</summary>
    public void CloseAll()
    {
        CloseListener();
        foreach (var client in _clients.ToArray())
        {
            Drop(client);
        }
    }

    private void CloseListener()
    {
        if (_listener >= 0)
        {
            _loop.Remove(_listener);
            LibC.close(_listener);
            _listener = -1;
        }
    }

    private void Accept()
    {
        while (_listener >= 0)
        {
            var fd = LibC.accept4(_listener, 0, 0, LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK);
            if (fd < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }
                return; // EAGAIN: nobody else is waiting; anything else: the client gave up.
            }
            var client = new Client(fd);
            _clients.Add(client);
            _loop.Add(fd, 0, events => OnReady(client, events));
            // First in its queue, so it precedes every output frame the client will see.
            client.Output.Enqueue(AttachProtocol.AttachedFrame(_input.Terminal, _input.Stdin));
            Send(client);
        }
    }

    private void OnReady(Client client, uint events)
    {
        if ((events & (LibC.EPOLLOUT | LibC.EPOLLERR)) != 0)
        {
            Send(client);
        }
        if (client.Dropped || (events & (LibC.EPOLLIN | LibC.EPOLLHUP | LibC.EPOLLERR)) == 0)
        {
            return;
        }
        if (_completed)
        {
            if ((events & (LibC.EPOLLHUP | LibC.EPOLLERR)) != 0)
            {
                Drop(client);
            }
            return;
        }
        if (_input.Busy)
        {
            // It hung up with input still unread: wait for the container before reading the rest,
            // and out of the loop, since a hang-up is reported for as long as it lasts.
            _loop.Remove(client.Fd);
            client.Parked = true;
            return;
        }
        Receive(client);
    }

    private void Send(Client client)
    {
        while (!client.Dropped && client.Output.TryPeek(out var frame))
        {
            nint sent;
            fixed (byte* pointer = frame)
            {
                sent = LibC.send(client.Fd, pointer + client.OutputOffset, (nuint)(frame.Length - client.OutputOffset), LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            }
            if (sent < 0)
            {
                if (RetryAfterFailure(client))
                {
                    continue;
                }
                break;
            }
            client.OutputOffset += (int)sent;
            if (client.OutputOffset == frame.Length)
            {
                client.Output.Dequeue();
                client.OutputOffset = 0;
            }
        }
        if (_completed && client.Output.Count == 0)
        {
            Drop(client);
        }
        Update(client);
    }

    /// <summary>
    /// After a failed read or send on the client's socket: true to try again (a signal
    /// interrupted it); otherwise stop for now, dropping the client unless its socket was only
    /// empty or full for the moment (EAGAIN: epoll says when to come back).
    /// </summary>
    private bool RetryAfterFailure(Client client)
    {
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EINTR)
        {
            return true;
        }
        if (errno != Errno.EAGAIN)
        {
            Drop(client);
        }
        return false;
    }

    /// <summary>Reads and acts on the client's frames until it has sent no more or the container's input is full.</summary>
    private void Receive(Client client)
    {
        while (!client.Dropped && !_completed && !_input.Busy)
        {
            var reading = client.HeaderFilled < AttachProtocol.HeaderLength;
            nint read;
            fixed (byte* header = client.Header)
            fixed (byte* payload = client.Payload)
            {
                read = reading
                    ? LibC.read(client.Fd, header + client.HeaderFilled, (nuint)(AttachProtocol.HeaderLength - client.HeaderFilled))
                    : LibC.read(client.Fd, payload + client.PayloadFilled, (nuint)(client.Payload!.Length - client.PayloadFilled));
            }
            if (read < 0)
            {
                if (RetryAfterFailure(client))
                {
                    continue;
                }
                break;
            }
            if (read == 0)
            {
                Drop(client); // It left.
                break;
            }
            if (reading)
            {
                client.HeaderFilled += (int)read;
                if (client.HeaderFilled < AttachProtocol.HeaderLength)
                {
                    continue;
                }
                var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(client.Header.AsSpan(1));
                if (length is < 0 or > AttachProtocol.MaxPayload)
                {
                    Drop(client); // A misbehaving client is dropped like one that left.
                    break;
                }
                client.Payload = length == 0 ? [] : new byte[length];
                client.PayloadFilled = 0;
            }
            else
            {
                client.PayloadFilled += (int)read;
            }
            if (client.PayloadFilled == client.Payload!.Length)
            {
                var kind = (AttachFrameKind)client.Header[0];
                var payload = client.Payload;
                client.HeaderFilled = 0;
                client.Payload = null;
                Act(client, kind, payload);
            }
        }
        if (_input.Busy)
        {
            foreach (var other in _clients)
            {
                Update(other);
            }
        }
    }

    private void Act(Client client, AttachFrameKind kind, byte[] payload)
    {
        switch (kind)
        {
            case AttachFrameKind.Stdin:
                _firstWriter ??= client;
                _input.Write(payload);
                break;
            case AttachFrameKind.StdinClose:
                _input.Close();
                break;
            case AttachFrameKind.Resize:
                if (payload.Length != 4)
                {
                    Drop(client);
                    break;
                }
                try
                {
                    var (width, height) = AttachProtocol.ParseResize(payload);
                    _input.Resize(width, height);
                }
                catch (SyscallException)
                {
                    Drop(client);
                }
                break;
        }
    }

    /// <summary>The container took all held input: read clients again.</summary>
    private void ResumeInput()
    {
        foreach (var client in _clients.ToArray())
        {
            if (client.Parked)
            {
                client.Parked = false;
                client.Interest = 0;
                _loop.Add(client.Fd, 0, events => OnReady(client, events));
            }
            Update(client);
        }
    }

    private void Update(Client client)
    {
        if (client.Dropped || client.Parked)
        {
            return;
        }
        var wanted = (client.Output.Count > 0 ? LibC.EPOLLOUT : 0) | (!_completed && !_input.Busy ? LibC.EPOLLIN : 0);
        if (wanted != client.Interest)
        {
            _loop.Change(client.Fd, wanted);
            client.Interest = wanted;
        }
    }

    private void Drop(Client client)
    {
        if (client.Dropped)
        {
            return;
        }
        client.Dropped = true;
        _clients.Remove(client);
        _loop.Remove(client.Fd);
        LibC.close(client.Fd);
        client.Output.Clear();
        if (!_completed && _stdinOnce && _firstWriter == client)
        {
            _input.Close();
        }
    }

    private sealed class Client(int fd)
    {
        public int Fd { get; } = fd;
        public Queue<byte[]> Output { get; } = new();
        public int OutputOffset { get; set; }
        public byte[] Header { get; } = new byte[AttachProtocol.HeaderLength];
        public int HeaderFilled { get; set; }
        public byte[]? Payload { get; set; }
        public int PayloadFilled { get; set; }
        public uint Interest { get; set; }
        public bool Parked { get; set; }
        public bool Dropped { get; set; }
    }
}
