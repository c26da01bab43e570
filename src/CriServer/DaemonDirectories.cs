namespace CriOci.CriServer;

/// <summary>Creates the daemon's directories with the modes containerd uses for the same roles.</summary>
internal static class DaemonDirectories
{
    /// <summary>
    /// Root: 0700, only the daemon reads metadata and layers (overlayfs looks lower dirs up with
    /// the mounter's credentials, so containers need no access). State: 0711, so a group member
    /// may traverse to the 0660 socket inside it without listing fifos and namespace pins.
    /// The socket's directory, when elsewhere, gets 0711 for the same reason. Existing
    /// directories keep the mode an administrator gave them.
    /// </summary>
    public static void Create(DaemonOptions options)
    {
        const UnixFileMode traverseOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        CreateIfMissing(options.RootDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        CreateIfMissing(options.StateDirectory, traverseOnly);
        CreateIfMissing(Path.GetDirectoryName(options.SocketPath)!, traverseOnly);
    }

    private static void CreateIfMissing(string directory, UnixFileMode mode)
    {
        if (Directory.Exists(directory))
        {
            return;
        }
        Directory.CreateDirectory(directory, mode);
        // mkdir(2) filters the mode through the umask; set it exactly.
        File.SetUnixFileMode(directory, mode);
    }
}
