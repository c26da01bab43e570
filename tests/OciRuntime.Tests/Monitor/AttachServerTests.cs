using System.Net.Sockets;
using System.Text;
using CriOci.OciRuntime.Launch;
using CriOci.OciRuntime.Monitor;

namespace CriOci.OciRuntime.Tests.Monitor;

/// <summary>
/// The monitor's attach socket in-process, on an event loop of its own thread as in crioci-monitor:
/// frames in order, slow clients dropped, input passed on without ever blocking the loop.
/// </summary>
public sealed class AttachServerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("crioci-attach-").FullName;
    private readonly string _path;
    private readonly LoopThread _monitor = new();

    public AttachServerTests() => _path = Path.Combine(_directory, "attach.sock");

    public void Dispose()
    {
        _monitor.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private AttachServer Start(ContainerInput input, bool stdinOnce = false, string? path = null) =>
        _monitor.Invoke(() => new AttachServer(_monitor.Loop, AttachServer.Listen(path ?? _path), input, stdinOnce));

    private Socket Connect()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(_path));
        return socket;
    }

    private static List<(AttachFrameKind Kind, byte[] Payload)> ReadAll(Socket socket)
    {
        var frames = new List<(AttachFrameKind, byte[])>();
        try
        {
            while (AttachProtocol.Read(socket) is { } frame)
            {
                frames.Add(frame);
            }
        }
        catch (SocketException)
        {
            // Reset by the monitor: the same as the end for a dropped client.
        }
        return frames;
    }

    [Fact]
    public void Complete_RegisteredClient_GetsGreetingOutputInOrderThenExitCode()
    {
        var server = Start(new ContainerInput(-1, terminal: false, stdin: false));
        using var client = Connect();
        var greeting = AttachProtocol.Read(client);

        _monitor.Invoke(() => server.Broadcast(AttachFrameKind.Stdout, "out"u8));
        _monitor.Invoke(() => server.Broadcast(AttachFrameKind.Stderr, "err"u8));
        _monitor.Invoke(() => server.Complete(7));
        var frames = ReadAll(client);
        var finished = _monitor.Invoke(() => server.Finished);

        Assert.Equal(AttachFrameKind.Attached, greeting!.Value.Kind);
        Assert.Equal(new byte[] { 0 }, greeting.Value.Payload);
        Assert.Equal([AttachFrameKind.Stdout, AttachFrameKind.Stderr, AttachFrameKind.Exit], frames.Select(f => f.Kind));
        Assert.Equal("out", Encoding.UTF8.GetString(frames[0].Payload));
        Assert.Equal("err", Encoding.UTF8.GetString(frames[1].Payload));
        Assert.Equal(new byte[] { 0, 0, 0, 7 }, frames[2].Payload);
        Assert.True(finished, "the client took everything, yet the server still counts it");
    }

    [Fact]
    public void Broadcast_ClientThatNeverReads_IsDroppedInsteadOfWaitedFor()
    {
        var server = Start(new ContainerInput(-1, terminal: false, stdin: false));
        using var slow = Connect();
        Assert.NotNull(AttachProtocol.Read(slow)); // registered
        var chunk = new byte[32 * 1024];
        const int chunks = 2000; // 64 MB: far more than the socket and the client's queue hold

        // If a broadcast waited for the client, the loop's thread would never finish this.
        _monitor.Invoke(() =>
        {
            for (var i = 0; i < chunks; i++)
            {
                server.Broadcast(AttachFrameKind.Stdout, chunk);
            }
            server.Complete(0);
        });
        var frames = ReadAll(slow);

        Assert.DoesNotContain(frames, f => f.Kind == AttachFrameKind.Exit);
        Assert.InRange(frames.Count, 0, chunks - 1);
    }

    [Fact]
    public void Stdin_FramesFromClient_ReachThePipeAndStdinCloseEndsIt()
    {
        var (read, write) = ContainerRuntime.CreatePipe();
        using var container = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(read, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        var input = new ContainerInput(write, terminal: false, stdin: true);
        var server = Start(input);
        using var client = Connect();
        var greeting = AttachProtocol.Read(client);

        client.Send(AttachProtocol.Frame(AttachFrameKind.Stdin, "typed\n"u8));
        client.Send(AttachProtocol.Frame(AttachFrameKind.StdinClose, []));
        using var reader = new StreamReader(container);
        var received = reader.ReadToEnd(); // returns only once the monitor closed the pipe
        _monitor.Invoke(() =>
        {
            server.Complete(0);
            input.Dispose();
        });

        Assert.Equal(new byte[] { 2 }, greeting!.Value.Payload);
        Assert.Equal("typed\n", received);
    }

    [Fact]
    public async Task Stdin_ContainerNotReading_OutputStillFlowsAndInputArrivesWholeLater()
    {
        // 1 MB of input against a 64 KB pipe nobody reads yet: a blocking write would stall the
        // monitor's only thread, and with it the container's output.
        var (read, write) = ContainerRuntime.CreatePipe();
        using var container = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(read, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        var input = new ContainerInput(write, terminal: false, stdin: true);
        var server = Start(input);
        using var writer = Connect();
        using var watcher = Connect();
        AttachProtocol.Read(writer);
        AttachProtocol.Read(watcher);
        var typed = Enumerable.Range(0, 1024 * 1024).Select(i => (byte)(i % 251)).ToArray();
        var sending = Task.Run(() =>
        {
            for (var offset = 0; offset < typed.Length; offset += 256 * 1024)
            {
                writer.Send(AttachProtocol.Frame(AttachFrameKind.Stdin, typed.AsSpan(offset, 256 * 1024)));
            }
            writer.Send(AttachProtocol.Frame(AttachFrameKind.StdinClose, []));
        });
        await Task.Delay(200); // let the pipe fill

        _monitor.Invoke(() => server.Broadcast(AttachFrameKind.Stdout, "still-flowing"u8));
        var seen = AttachProtocol.Read(watcher);
        var received = new MemoryStream();
        await container.CopyToAsync(received); // ends once StdinClose closed the pipe, after all input
        await sending;
        _monitor.Invoke(() =>
        {
            server.Complete(0);
            input.Dispose();
        });

        Assert.Equal("still-flowing", Encoding.UTF8.GetString(seen!.Value.Payload));
        Assert.Equal(typed, received.ToArray());
    }

    [Fact]
    public void StdinOnce_FirstWriterLeaves_ClosesTheContainersInput()
    {
        var (read, write) = ContainerRuntime.CreatePipe();
        using var container = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(read, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        var input = new ContainerInput(write, terminal: false, stdin: true);
        var server = Start(input, stdinOnce: true);
        using var bystander = Connect();
        AttachProtocol.Read(bystander);
        using (var client = Connect())
        {
            AttachProtocol.Read(client);
            client.Send(AttachProtocol.Frame(AttachFrameKind.Stdin, "once\n"u8));
        }

        using var reader = new StreamReader(container);
        var received = reader.ReadToEnd(); // returns only once the monitor closed the pipe
        _monitor.Invoke(() => server.Complete(0));

        Assert.Equal("once\n", received);
    }

    [Fact]
    public void Start_PathLongerThanASocketAddress_IsStillBoundAndReachable()
    {
        // A deep state root plus a 64-character container ID passes the 107 bytes of sockaddr_un.
        var deep = Path.Combine(_directory, new string('d', 60), new string('e', 64));
        Directory.CreateDirectory(deep);
        var path = Path.Combine(deep, "attach.sock");
        var server = Start(new ContainerInput(-1, terminal: false, stdin: false), path: path);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (var address = OciRuntime.Linux.UnixSocketPath.For(path))
        {
            client.Connect(new UnixDomainSocketEndPoint(address.Address));
        }
        var greeting = AttachProtocol.Read(client);
        _monitor.Invoke(() => server.Complete(0));

        Assert.True(path.Length > 107, path);
        Assert.True(File.Exists(path), "the socket is not where the path says");
        Assert.Equal(AttachFrameKind.Attached, greeting?.Kind);
    }

    [Fact]
    public void Start_SocketFile_IsReadableAndWritableByTheOwnerOnly()
    {
        var server = Start(new ContainerInput(-1, terminal: false, stdin: false));

        var mode = File.GetUnixFileMode(_path);
        _monitor.Invoke(() => server.Complete(0));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }
}
