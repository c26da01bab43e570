using System.Net;
using System.Net.Sockets;
using CriOci.Core;
using CriOci.PodSandbox.Network;

namespace CriOci.PodSandbox;

internal sealed partial class SandboxManager
{
    public async Task<Stream> ConnectToPodPortAsync(string podSandboxId, int port, CancellationToken cancellationToken)
    {
        if (port is <= 0 or > 65535)
        {
            throw new InvalidArgumentException($"port {port} is not a TCP port");
        }
        var id = Resolve(_sandboxes, podSandboxId) ?? throw new NotFoundException($"pod sandbox {podSandboxId} not found");
        if (!_sandboxes.TryGetValue(id, out var sandbox) || !sandbox.Record.Ready)
        {
            throw new FailedPreconditionException($"pod sandbox {id} is not ready");
        }
        // kubelet's port-forward dials "localhost" inside the pod: IPv4 first, then IPv6.
        SocketException? refused = null;
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var socket = await CreateSocketAsync(sandbox.Record.NetworkNamespace, address.AddressFamily).ConfigureAwait(false);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                refused ??= exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw new FailedPreconditionException($"port {port} in pod sandbox {id}: {refused!.Message}");
    }

    /// <summary>A socket born in the pod's network namespace (the node's for host-network pods).</summary>
    private static Task<Socket> CreateSocketAsync(string? networkNamespace, AddressFamily family) =>
        networkNamespace is null
            ? Task.FromResult(new Socket(family, SocketType.Stream, ProtocolType.Tcp))
            : NetworkNamespaceThread.RunAsync(networkNamespace, () => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
}
