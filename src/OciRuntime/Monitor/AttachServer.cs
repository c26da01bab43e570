using System.Collections.Concurrent;
using System.Net.Sockets;

namespace CriOci.OciRuntime.Monitor;

/// <summary>
/// The monitor's attach socket (<see cref="AttachProtocol"/>): accepts any number of clients,
/// copies the container's output to each without ever waiting for one, and passes their
/// input, end of input and terminal sizes to the container.
/// </summary>
internal sealed class AttachServer
{
    /// <summary>Output frames a client may fall behind by before it is dropped (a few MB at most).</summary>
    private const int ClientQueueFrames = 256;

    private readonly Socket _listener;
    private readonly ContainerInput _input;
    private readonly bool _stdinOnce;
    private readonly object _lock = new();
    private readonly List<Client> _clients = [];
    private Client? _firstWriter;
    private bool _completed;

    private AttachServer(Socket listener, ContainerInput input, bool stdinOnce)
    {
        _listener = listener;
        _input = input;
        _stdinOnce = stdinOnce;
    }

    /// <summary>Listens on <paramref name="path"/>, readable and writable by root only.</summary>
    public static AttachServer Start(string path, ContainerInput input, bool stdinOnce)
    {
        File.Delete(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // The socket file is created with the umask's mode: never let it exist wider than 0600.
            var previous = Linux.Interop.LibC.umask(0x3f /* 077 */);
            try
            {
                using var address = Linux.UnixSocketPath.For(path);
                listener.Bind(new UnixDomainSocketEndPoint(address.Address));
            }
            finally
            {
                Linux.Interop.LibC.umask(previous);
            }
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        var server = new AttachServer(listener, input, stdinOnce);
        new Thread(server.AcceptLoop) { IsBackground = true, Name = "crioci-attach" }.Start();
        return server;
    }

    /// <summary>Queues output for every client; one that is too far behind is disconnected.</summary>
    public void Broadcast(AttachFrameKind kind, ReadOnlySpan<byte> data)
    {
        var frame = AttachProtocol.Frame(kind, data);
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }
            foreach (var client in _clients.ToList())
            {
                if (!client.Queue.TryAdd(frame))
                {
                    Drop(client);
                }
            }
        }
    }

    /// <summary>How long clients together get to take the last output and the exit code.</summary>
    private static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(1);

    /// <summary>Tells every client the exit code, lets them drain (briefly) and closes everything.</summary>
    public void Complete(int exitCode)
    {
        List<Client> clients;
        lock (_lock)
        {
            _completed = true;
            clients = [.. _clients];
            foreach (var client in clients)
            {
                client.Queue.TryAdd(AttachProtocol.ExitFrame(exitCode));
                client.Queue.CompleteAdding();
            }
        }
        _listener.Dispose();
        var deadline = DateTime.UtcNow + DrainTime;
        foreach (var client in clients)
        {
            var left = deadline - DateTime.UtcNow;
            client.Sender?.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            client.Socket.Dispose();
        }
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }
            var client = new Client(socket);
            lock (_lock)
            {
                if (_completed)
                {
                    socket.Dispose();
                    return;
                }
                _clients.Add(client);
                // Queued under the lock, so it precedes every output frame the client will see.
                client.Queue.TryAdd(AttachProtocol.AttachedFrame(_input.Terminal, _input.Stdin));
            }
            client.Sender = new Thread(() => Send(client)) { IsBackground = true, Name = "crioci-attach-out" };
            client.Sender.Start();
            new Thread(() => Receive(client)) { IsBackground = true, Name = "crioci-attach-in" }.Start();
        }
    }

    private void Send(Client client)
    {
        try
        {
            foreach (var frame in client.Queue.GetConsumingEnumerable())
            {
                client.Socket.Send(frame);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            Drop(client);
        }
    }

    private void Receive(Client client)
    {
        try
        {
            while (AttachProtocol.Read(client.Socket) is var (kind, payload))
            {
                switch (kind)
                {
                    case AttachFrameKind.Stdin:
                        lock (_lock)
                        {
                            _firstWriter ??= client;
                        }
                        _input.Write(payload);
                        break;
                    case AttachFrameKind.StdinClose:
                        _input.Close();
                        break;
                    case AttachFrameKind.Resize:
                        var (width, height) = AttachProtocol.ParseResize(payload);
                        _input.Resize(width, height);
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException or InvalidDataException or Linux.SyscallException)
        {
            // A broken or misbehaving client is dropped like one that left.
        }
        Drop(client);
        bool closeInput;
        lock (_lock)
        {
            closeInput = _stdinOnce && _firstWriter == client;
        }
        if (closeInput)
        {
            _input.Close();
        }
        client.Sender?.Join();
        client.Socket.Dispose();
    }

    private void Drop(Client client)
    {
        lock (_lock)
        {
            if (!_clients.Remove(client))
            {
                return;
            }
        }
        client.Queue.CompleteAdding();
        // Shutdown wakes the client's threads blocked in send or receive; they then end.
        try
        {
            client.Socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
        }
    }

    private sealed class Client(Socket socket)
    {
        public Socket Socket { get; } = socket;
        public BlockingCollection<byte[]> Queue { get; } = new(ClientQueueFrames);
        public Thread? Sender { get; set; }
    }
}
