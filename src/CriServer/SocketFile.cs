using System.Net.Sockets;

namespace CriOci.CriServer;

/// <summary>The unix socket file around Kestrel's bind: stale-file cleanup before, mode after.</summary>
internal static class SocketFile
{
    /// <summary>kubelet runs as root; 0660 lets a chosen group (e.g. for crictl) in and nobody else.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// bind(2) fails with EADDRINUSE while the file of a dead daemon remains, so remove it; but
    /// first connect to it, so a live server on the same path (another daemon with another root)
    /// is reported instead of silently stolen from.
    /// </summary>
    public static async Task RemoveStaleAsync(string socketPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return;
        }
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                throw new DaemonConfigException($"socket {socketPath} is served by another process");
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                // ECONNREFUSED: nobody listens, the file is stale.
            }
        }
        File.Delete(socketPath);
    }

    public static void SetMode(string socketPath) => File.SetUnixFileMode(socketPath, Mode);
}
