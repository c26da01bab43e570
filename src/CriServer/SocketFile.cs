using System.Net.Sockets;

namespace CriOci.CriServer;

/// <summary>The unix socket file around Kestrel's bind: stale-file cleanup before, mode after.</summary>
internal static partial class SocketFile
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

    /// <summary>
    /// The gid of <paramref name="group"/>: a number as it is, a name from /etc/group; null
    /// (root's group) when none is configured. Resolved before the socket exists, so a typo
    /// stops the daemon before kubelet can connect.
    /// </summary>
    public static uint? ResolveGroup(string? group, string groupFile = "/etc/group")
    {
        if (string.IsNullOrEmpty(group))
        {
            return null;
        }
        if (uint.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var gid))
        {
            return gid;
        }
        var lines = File.Exists(groupFile) ? File.ReadLines(groupFile) : [];
        foreach (var fields in lines.Select(line => line.Split(':')))
        {
            if (fields.Length > 2 && fields[0] == group
                && uint.TryParse(fields[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out gid))
            {
                return gid;
            }
        }
        throw new DaemonConfigException($"socketGroup: group {group} is not in {groupFile}");
    }

    /// <summary>Mode 0660, and the configured group (the owner stays root, the daemon's user).</summary>
    public static void SetAccess(string socketPath, uint? gid)
    {
        File.SetUnixFileMode(socketPath, Mode);
        if (gid is { } group && lchown(socketPath, uint.MaxValue /* owner unchanged */, group) != 0)
        {
            throw new IOException($"chgrp {group} {socketPath}: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lchown(string path, uint owner, uint group);
}
